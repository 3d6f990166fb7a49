#pragma once

#include <QByteArray>
#include <span>
#include <vector>

namespace lockscope::redis {

/// A Lua script with its SHA1 computed locally, so that EVALSHA can be tried first and the
/// source sent (EVAL) only when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
/// Immutable after construction, so one instance can be shared by all threads.
class Script
{
public:
    explicit Script(QByteArray source);

    const QByteArray &source() const { return m_source; }
    /// Lower-case hex SHA1 of the source, as Redis computes it.
    const QByteArray &sha1() const { return m_sha1; }
    /// EVALSHA <sha1> <number of keys> <keys...> <args...>: the command that runs this script.
    std::vector<QByteArray> evalshaCommand(std::span<const QByteArray> keys,
                                           std::span<const QByteArray> args) const;

private:
    QByteArray m_source;
    QByteArray m_sha1;
};

} // namespace lockscope::redis
