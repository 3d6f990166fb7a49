#pragma once

#include <QByteArray>
#include <QString>
#include <vector>

namespace lockscope::redis {

namespace detail {
struct ReplyBuilder;
}

/// A decoded RESP2 reply. A plain value type: it owns its bytes and can cross threads.
/// hiredis types never leave the connection implementation.
class RedisReply
{
public:
    enum class Type : quint8
    {
        Nil,
        Status,
        Error,
        Integer,
        String,
        Array
    };

    RedisReply() = default;
    static RedisReply nil() { return RedisReply(); }
    static RedisReply status(QByteArray text);
    static RedisReply error(QByteArray text);
    static RedisReply integer(qint64 value);
    static RedisReply string(QByteArray bytes);
    static RedisReply array(std::vector<RedisReply> elements);

    Type type() const { return m_type; }
    bool isNil() const { return m_type == Type::Nil; }
    bool isStatus() const { return m_type == Type::Status; }
    bool isError() const { return m_type == Type::Error; }
    bool isInteger() const { return m_type == Type::Integer; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }

    /// Payload of String, Status and Error replies (binary-safe); empty otherwise.
    const QByteArray &bytes() const { return m_bytes; }
    /// Value of Integer replies; 0 otherwise.
    qint64 integer() const { return m_integer; }
    const std::vector<RedisReply> &elements() const { return m_elements; }

    /// True for Status "OK".
    bool isOk() const { return m_type == Type::Status && m_bytes == "OK"; }

    /// Debug/CLI rendering in redis-cli style, e.g. `(integer) 3`, `"abc"`, `(nil)`.
    QString toDisplayString() const;

    bool operator==(const RedisReply &other) const = default;

private:
    friend struct detail::ReplyBuilder; // ReplyReader builds replies in place

    Type m_type = Type::Nil;
    qint64 m_integer = 0;
    QByteArray m_bytes;
    std::vector<RedisReply> m_elements;
};

} // namespace lockscope::redis
