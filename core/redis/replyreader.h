#pragma once

#include "redisreply.h"

#include <QString>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>

struct redisReader;

namespace lockscope::redis {

/// The RESP parser of one connection: the bytes received from the server go in, complete
/// replies come out as RedisReply trees. hiredis parses the protocol and the reply is built in
/// place (no hiredis type leaves the implementation). The bytes are whatever the peer sent: a
/// server, a proxy, or something else listening on the port, so nothing announced in them
/// (an array's length, a bulk string's size) is trusted before its bytes have arrived.
///
/// A protocol error is final: the connection that owns the reader drops it. Not thread-safe;
/// one reader per connection.
class ReplyReader
{
public:
    /// A new reader; nullptr when hiredis cannot allocate one.
    static std::unique_ptr<ReplyReader> create();
    ~ReplyReader();
    ReplyReader(const ReplyReader &) = delete;
    ReplyReader &operator=(const ReplyReader &) = delete;

    /// Appends received bytes (parsed by next()). The error text on a protocol error or when
    /// the buffer cannot grow.
    std::expected<void, QString> feed(const char *data, std::size_t size);
    /// The next complete reply; nullopt when the rest of it has not been fed yet. The error
    /// text when the bytes are not RESP.
    std::expected<std::optional<RedisReply>, QString> next();

private:
    explicit ReplyReader(redisReader *reader);

    redisReader *m_reader;
    RedisReply m_parsed; // where hiredis builds each reply (the reader's privdata)
};

} // namespace lockscope::redis
