#include "replyreader.h"

#include <algorithm>
#include <hiredis.h>

namespace lockscope::redis {

namespace detail {

/// hiredis parses the protocol; these callbacks build the RedisReply tree in place, instead of
/// hiredis' own redisReply objects that would then be copied and freed (twice the allocations
/// for every reply of a pipelined scan). The root is the reader's reply slot (its privdata),
/// so a reply costs no allocation beyond its bytes.
///
/// An array grows as its elements arrive, never to the length it announces: "*2147483647\r\n"
/// is 14 bytes from whoever answers on the port, and sizing the array by it would ask for
/// 137 GB. hiredis fills an array's elements in order and descends into a nested array only
/// through its last element, so the addresses it holds (the arrays still being filled) stay
/// valid while their children are appended.
struct ReplyBuilder
{
    static void *place(const redisReadTask *task, RedisReply &&value)
    {
        if (task->parent) {
            auto *parent = static_cast<RedisReply *>(task->parent->obj);
            Q_ASSERT(parent->m_elements.size() == std::size_t(task->idx));
            return &parent->m_elements.emplace_back(std::move(value));
        }
        auto *root = static_cast<RedisReply *>(task->privdata);
        *root = std::move(value);
        return root;
    }

    static void *createString(const redisReadTask *task, char *str, size_t len)
    {
        RedisReply reply;
        reply.m_type = task->type == REDIS_REPLY_ERROR    ? RedisReply::Type::Error
                       : task->type == REDIS_REPLY_STATUS ? RedisReply::Type::Status
                                                          : RedisReply::Type::String;
        reply.m_bytes = QByteArray(str, qsizetype(len));
        return place(task, std::move(reply));
    }

    static void *createArray(const redisReadTask *task, int elements)
    {
        // Room for what a small array will hold at once; a large one grows geometrically as
        // its elements arrive (see above).
        constexpr int kReserveAtMost = 64;
        RedisReply reply;
        reply.m_type = RedisReply::Type::Array;
        reply.m_elements.reserve(std::size_t(std::clamp(elements, 0, kReserveAtMost)));
        return place(task, std::move(reply));
    }

    static void *createInteger(const redisReadTask *task, long long value)
    {
        RedisReply reply;
        reply.m_type = RedisReply::Type::Integer;
        reply.m_integer = value;
        return place(task, std::move(reply));
    }

    static void *createNil(const redisReadTask *task) { return place(task, RedisReply()); }

    /// hiredis frees only the root of a reply (an error mid-reply, or the reader's end).
    static void freeObject(void *reply) { *static_cast<RedisReply *>(reply) = RedisReply(); }

    static redisReplyObjectFunctions *functions()
    {
        static redisReplyObjectFunctions fn{createString, createArray, createInteger, createNil, freeObject};
        return &fn;
    }
};

} // namespace detail

std::unique_ptr<ReplyReader> ReplyReader::create()
{
    redisReader *reader = redisReaderCreateWithFunctions(detail::ReplyBuilder::functions());
    if (!reader)
        return nullptr;
    return std::unique_ptr<ReplyReader>(new ReplyReader(reader));
}

ReplyReader::ReplyReader(redisReader *reader) : m_reader(reader)
{
    m_reader->privdata = &m_parsed;
}

ReplyReader::~ReplyReader()
{
    redisReaderFree(m_reader);
}

std::expected<void, QString> ReplyReader::feed(const char *data, std::size_t size)
{
    if (redisReaderFeed(m_reader, data, size) != REDIS_OK)
        return std::unexpected(QString::fromLocal8Bit(m_reader->errstr));
    return {};
}

std::expected<std::optional<RedisReply>, QString> ReplyReader::next()
{
    void *raw = nullptr;
    if (redisReaderGetReply(m_reader, &raw) != REDIS_OK)
        return std::unexpected(QString::fromLocal8Bit(m_reader->errstr));
    if (!raw)
        return std::nullopt;
    Q_ASSERT(raw == &m_parsed);
    std::optional<RedisReply> reply(std::move(m_parsed));
    m_parsed = RedisReply();
    return reply;
}

} // namespace lockscope::redis
