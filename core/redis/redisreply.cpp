#include "redisreply.h"

#include <QStringList>

namespace lockscope::redis {

RedisReply RedisReply::status(QByteArray text)
{
    RedisReply r;
    r.m_type = Type::Status;
    r.m_bytes = std::move(text);
    return r;
}

RedisReply RedisReply::error(QByteArray text)
{
    RedisReply r;
    r.m_type = Type::Error;
    r.m_bytes = std::move(text);
    return r;
}

RedisReply RedisReply::integer(qint64 value)
{
    RedisReply r;
    r.m_type = Type::Integer;
    r.m_integer = value;
    return r;
}

RedisReply RedisReply::string(QByteArray bytes)
{
    RedisReply r;
    r.m_type = Type::String;
    r.m_bytes = std::move(bytes);
    return r;
}

RedisReply RedisReply::array(std::vector<RedisReply> elements)
{
    RedisReply r;
    r.m_type = Type::Array;
    r.m_elements = std::move(elements);
    return r;
}

static QString quoted(const QByteArray &bytes)
{
    QString out = QStringLiteral("\"");
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\')
            out += QLatin1Char('\\'), out += QLatin1Char(c);
        else if (u >= 0x20 && u < 0x7f)
            out += QLatin1Char(c);
        else if (c == '\n')
            out += QStringLiteral("\\n");
        else if (c == '\r')
            out += QStringLiteral("\\r");
        else if (c == '\t')
            out += QStringLiteral("\\t");
        else
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
    }
    return out + QLatin1Char('"');
}

QString RedisReply::toDisplayString() const
{
    switch (m_type) {
    case Type::Nil:
        return QStringLiteral("(nil)");
    case Type::Status:
        return QString::fromUtf8(m_bytes);
    case Type::Error:
        return QStringLiteral("(error) ") + QString::fromUtf8(m_bytes);
    case Type::Integer:
        return QStringLiteral("(integer) %1").arg(m_integer);
    case Type::String:
        return quoted(m_bytes);
    case Type::Array: {
        if (m_elements.empty())
            return QStringLiteral("(empty array)");
        QStringList parts;
        for (const RedisReply &e : m_elements)
            parts << e.toDisplayString();
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    }
    return {};
}

} // namespace lockscope::redis
