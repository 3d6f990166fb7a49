// The reply path of a connection: the bytes a peer sends (a Redis server, or whatever answers on
// the port) through the connection's ReplyReader, fed in slices the way the socket delivers
// them, and every complete reply converted as the connection converts it (error replies into a
// RedisError of the right kind, redis-cli style rendering for lockctl). Parsing must not depend
// on where the socket cut the bytes: the replies are the same when the input arrives at once.

#include "fuzzcheck.h"
#include "redis/rediserror.h"
#include "redis/replyreader.h"

#include <vector>

using lockscope::fuzz::require;
using lockscope::redis::RedisError;
using lockscope::redis::RedisReply;
using lockscope::redis::ReplyReader;

namespace {

struct Parsed
{
    std::vector<RedisReply> replies;
    bool protocolError = false;
};

void convert(const RedisReply &reply)
{
    if (reply.isError()) {
        const RedisError error = RedisError::fromServerReply(QStringLiteral("node"), reply.bytes());
        (void)error.toString();
    }
    for (const RedisReply &element : reply.elements())
        convert(element);
}

/// Feeds `bytes` in slices whose lengths come from a small generator seeded by the input, and
/// takes every reply that is complete after each slice (Connection::Private::read()).
Parsed parse(const QByteArray &bytes, std::uint32_t seed)
{
    Parsed parsed;
    const auto reader = ReplyReader::create();
    require(reader != nullptr, "a reader is created");
    std::uint32_t state = seed | 1;
    qsizetype pos = 0;
    while (pos < bytes.size()) {
        qsizetype slice = bytes.size() - pos;
        if (seed != 0) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            // Mostly short slices (a reply cut anywhere), now and then a socket buffer's worth.
            slice = std::min<qsizetype>(slice, state % 8 == 0 ? 16384 : 1 + state % 16);
        }
        if (!reader->feed(bytes.constData() + pos, std::size_t(slice))) {
            parsed.protocolError = true;
            return parsed;
        }
        pos += slice;
        for (;;) {
            auto next = reader->next();
            if (!next) {
                parsed.protocolError = true;
                return parsed;
            }
            if (!*next)
                break;
            (void)(*next)->toDisplayString();
            convert(**next);
            parsed.replies.push_back(std::move(**next));
        }
    }
    return parsed;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes = lockscope::fuzz::bytesOf(data, size);
    std::uint32_t seed = 2166136261u; // FNV-1a of the input: each input has its own cuts
    for (const char c : bytes)
        seed = (seed ^ static_cast<unsigned char>(c)) * 16777619u;

    const Parsed sliced = parse(bytes, seed);
    const Parsed whole = parse(bytes, 0);
    require(sliced.protocolError == whole.protocolError, "a protocol error does not depend on the cuts");
    require(sliced.replies == whole.replies, "the replies do not depend on where the input was cut");
    return 0;
}
