#pragma once

// Internal to the connection implementation: OpenSSL stays out of every public header.

#include "nodeconfig.h"

#include <chrono>
#include <memory>

namespace lockscope::redis::detail {

using Clock = std::chrono::steady_clock;

/// Waits until fd is ready for `events` (POLLIN / POLLOUT) or the deadline passes.
/// Returns 1 when ready (or on POLLHUP/POLLERR, so that the next read or write sees the
/// error), 0 on timeout, -1 on a poll() failure (errno set). With an `interruptFd` (an eventfd
/// or pipe), the wait also ends, returning 0, as soon as that one is readable.
int waitFd(int fd, short events, Clock::time_point deadline, int interruptFd = -1);

/// One TLS session over a connected non-blocking socket.
class TlsSession
{
public:
    enum class Io
    {
        Ok,
        WantRead,
        WantWrite,
        Closed,
        Error
    };

    /// Runs the TLS handshake (SNI, chain and host-name verification unless disabled, client
    /// certificate when configured) until the deadline. Errors are ErrorKind::Tls with
    /// OpenSSL's reason, or Timeout.
    static Result<std::unique_ptr<TlsSession>> handshake(int fd, const NodeConfig &config,
                                                         const QString &node, Clock::time_point deadline);
    ~TlsSession();

    Io read(char *buffer, size_t size, size_t &done);
    Io write(const char *data, size_t size, size_t &done);
    /// Decrypted or raw bytes already buffered inside OpenSSL (no poll needed before read).
    bool hasPending() const;
    /// The reason of the last Io::Error (or of a Closed during the handshake phase).
    QString errorText() const { return m_error; }

private:
    explicit TlsSession(void *ssl) : m_ssl(ssl) {}
    Io classify(int ret);
    void *m_ssl; // SSL*
    QString m_error;
};

} // namespace lockscope::redis::detail
