#include "tlscontext.h"

#include <QMutex>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <tuple>
#include <unistd.h>

namespace lockscope::redis::detail {

int waitFd(int fd, short events, Clock::time_point deadline, int interruptFd)
{
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        // Round up so that a sub-millisecond remainder still polls once instead of spinning.
        const int timeoutMs =
            left.count() <= 0 ? 0 : static_cast<int>(std::min<qint64>(left.count() + 1, 1 << 30));
        pollfd p[2] = {{fd, events, 0}, {interruptFd, POLLIN, 0}};
        const int n = ::poll(p, interruptFd >= 0 ? 2 : 1, timeoutMs);
        if (n > 0)
            return p[0].revents != 0 ? 1 : 0; // else interrupted: ends the wait like a timeout
        if (n == 0) {
            if (Clock::now() >= deadline)
                return 0;
            continue;
        }
        if (errno != EINTR)
            return -1;
    }
}

namespace {

QString opensslErrors()
{
    QStringList reasons;
    while (const unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        const char *reason = ERR_reason_error_string(code);
        reasons << (reason ? QString::fromLatin1(reason) : QString::fromLatin1(buffer));
    }
    reasons.removeDuplicates();
    return reasons.join(QStringLiteral("; "));
}

struct SslCtxDeleter
{
    void operator()(SSL_CTX *ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// SSL_CTX is thread-safe once set up and loading a CA bundle costs milliseconds, so one
// context per distinct set of TLS files is shared by all connections.
Result<SSL_CTX *> contextFor(const TlsOptions &tls, const QString &node)
{
    using Key = std::tuple<QString, QString, QString, QString, bool>;
    static QMutex mutex;
    static std::map<Key, CtxPtr> cache;
    const Key key{tls.caFile, tls.caDir, tls.certFile, tls.keyFile, tls.verifyPeer};
    QMutexLocker lock(&mutex);
    if (auto it = cache.find(key); it != cache.end())
        return it->second.get();

    ERR_clear_error();
    CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx)
        return fail(ErrorKind::Tls, node,
                    QStringLiteral("cannot create TLS context: %1").arg(opensslErrors()));
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tls.verifyPeer) {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        if (!tls.caFile.isEmpty() || !tls.caDir.isEmpty()) {
            const QByteArray file = tls.caFile.toLocal8Bit();
            const QByteArray dir = tls.caDir.toLocal8Bit();
            if (SSL_CTX_load_verify_locations(ctx.get(), file.isEmpty() ? nullptr : file.constData(),
                                              dir.isEmpty() ? nullptr : dir.constData()) != 1) {
                return fail(ErrorKind::Tls, node,
                            QStringLiteral("cannot load CA %1: %2")
                                .arg(tls.caFile.isEmpty() ? tls.caDir : tls.caFile, opensslErrors()));
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
            return fail(ErrorKind::Tls, node,
                        QStringLiteral("cannot load the system CA store: %1").arg(opensslErrors()));
        }
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    if (!tls.certFile.isEmpty()) {
        const QByteArray cert = tls.certFile.toLocal8Bit();
        const QByteArray keyFile = tls.keyFile.toLocal8Bit();
        if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.constData()) != 1)
            return fail(
                ErrorKind::Tls, node,
                QStringLiteral("cannot load client certificate %1: %2").arg(tls.certFile, opensslErrors()));
        if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyFile.constData(), SSL_FILETYPE_PEM) != 1)
            return fail(ErrorKind::Tls, node,
                        QStringLiteral("cannot load client key %1: %2").arg(tls.keyFile, opensslErrors()));
        if (SSL_CTX_check_private_key(ctx.get()) != 1)
            return fail(
                ErrorKind::Tls, node,
                QStringLiteral("client key %1 does not match certificate %2").arg(tls.keyFile, tls.certFile));
    }
    SSL_CTX *raw = ctx.get();
    cache.emplace(key, std::move(ctx));
    return raw;
}

QString verifyFailure(SSL *ssl)
{
    const long result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK)
        return {};
    return QStringLiteral("certificate verification failed: %1")
        .arg(QString::fromLatin1(X509_verify_cert_error_string(result)));
}

/// Whether the server behind `fd` speaks plain RESP: a second, plain connection to the same
/// address sends "PING" and gets a RESP answer (+PONG, or an error such as -NOAUTH) within
/// `budget`. Asked only once a TLS handshake has failed, to say why in plain words.
bool answersPlainResp(int fd, std::chrono::milliseconds budget)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    const int probe = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return false;
    const Clock::time_point deadline = Clock::now() + budget;
    bool plain = false;
    if (::connect(probe, reinterpret_cast<sockaddr *>(&address), length) == 0 || errno == EINPROGRESS) {
        int error = 0;
        socklen_t size = sizeof error;
        static constexpr char Ping[] = "PING\r\n";
        char first = 0;
        plain = waitFd(probe, POLLOUT, deadline) > 0 &&
                ::getsockopt(probe, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0 &&
                ::send(probe, Ping, sizeof Ping - 1, MSG_NOSIGNAL) == ssize_t(sizeof Ping - 1) &&
                waitFd(probe, POLLIN, deadline) > 0 && ::recv(probe, &first, 1, 0) == 1 &&
                (first == '+' || first == '-');
    }
    ::close(probe);
    return plain;
}

/// The error of a failed handshake with a server that answers plain RESP instead.
std::unexpected<RedisError> notTls(const QString &node)
{
    return fail(ErrorKind::NotTls, node,
                QStringLiteral("the server does not speak TLS on this port (it answers plain Redis): use "
                               "redis:// instead of rediss://, or the server's TLS port (tls-port)"));
}

/// How long a failed handshake may spend finding out whether the server speaks plain RESP.
constexpr std::chrono::milliseconds PlainProbeBudget{1000};

} // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::handshake(int fd, const NodeConfig &config,
                                                          const QString &node, Clock::time_point deadline)
{
    auto ctx = contextFor(config.tls, node);
    if (!ctx)
        return std::unexpected(ctx.error());
    ERR_clear_error();
    SSL *ssl = SSL_new(*ctx);
    if (!ssl)
        return fail(ErrorKind::Tls, node,
                    QStringLiteral("cannot create TLS session: %1").arg(opensslErrors()));
    std::unique_ptr<TlsSession> session(new TlsSession(ssl));
    SSL_set_fd(ssl, fd);

    const QString name = config.tls.serverName.isEmpty() ? config.host : config.tls.serverName;
    const QByteArray nameBytes = name.toUtf8();
    unsigned char ipBuffer[sizeof(in6_addr)];
    const bool isIp = inet_pton(AF_INET, nameBytes.constData(), ipBuffer) == 1 ||
                      inet_pton(AF_INET6, nameBytes.constData(), ipBuffer) == 1;
    if (!isIp && !name.isEmpty())
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char *>(nameBytes.constData())); // SNI never carries IP literals (RFC 6066)
    if (config.tls.verifyPeer && !name.isEmpty()) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        const int ok = isIp ? X509_VERIFY_PARAM_set1_ip_asc(param, nameBytes.constData())
                            : X509_VERIFY_PARAM_set1_host(param, nameBytes.constData(), 0);
        if (ok != 1)
            return fail(ErrorKind::Tls, node, QStringLiteral("cannot verify against name \"%1\"").arg(name));
    }

    for (;;) {
        ERR_clear_error();
        const int ret = SSL_connect(ssl);
        if (ret == 1)
            return session;
        const int err = SSL_get_error(ssl, ret);
        short events = 0;
        if (err == SSL_ERROR_WANT_READ)
            events = POLLIN;
        else if (err == SSL_ERROR_WANT_WRITE)
            events = POLLOUT;
        if (events != 0) {
            const int ready = waitFd(fd, events, deadline);
            if (ready == 0) {
                // A plain server reads the ClientHello as the start of an inline command and
                // waits for its end: no answer, no error, just the timeout.
                if (answersPlainResp(fd, PlainProbeBudget))
                    return notTls(node);
                return fail(ErrorKind::Timeout, node,
                            QStringLiteral("the TLS handshake did not complete in time"));
            }
            if (ready < 0)
                return fail(ErrorKind::Io, node, QString::fromLocal8Bit(std::strerror(errno)));
            continue;
        }
        QString reason = verifyFailure(ssl);
        if (reason.isEmpty())
            reason = opensslErrors();
        if (reason.isEmpty() && err == SSL_ERROR_SYSCALL)
            reason = errno ? QString::fromLocal8Bit(std::strerror(errno))
                           : QStringLiteral("the server closed the connection during the TLS handshake");
        if (reason.contains(QLatin1String("wrong version number")) ||
            reason.contains(QLatin1String("packet length"))) {
            // The server answered the ClientHello with something that is not TLS, such as a
            // RESP error for the "command" it read.
            if (answersPlainResp(fd, PlainProbeBudget))
                return notTls(node);
            reason += QStringLiteral(" (is this a TLS port?)");
        }
        return fail(ErrorKind::Tls, node, QStringLiteral("handshake failed: %1").arg(reason));
    }
}

TlsSession::~TlsSession()
{
    SSL *ssl = static_cast<SSL *>(m_ssl);
    // A best-effort close_notify; the socket is non-blocking, so this never waits.
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

TlsSession::Io TlsSession::classify(int ret)
{
    SSL *ssl = static_cast<SSL *>(m_ssl);
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return Io::WantRead;
    case SSL_ERROR_WANT_WRITE:
        return Io::WantWrite;
    case SSL_ERROR_ZERO_RETURN:
        return Io::Closed;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
                return Io::Closed;
            m_error = QString::fromLocal8Bit(std::strerror(errno));
            return Io::Error;
        }
        [[fallthrough]];
    default: {
        m_error = opensslErrors();
        if (m_error.contains(QLatin1String("unexpected eof")))
            return Io::Closed;
        return Io::Error;
    }
    }
}

TlsSession::Io TlsSession::read(char *buffer, size_t size, size_t &done)
{
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_read_ex(static_cast<SSL *>(m_ssl), buffer, size, &done);
    return ret == 1 ? Io::Ok : classify(ret);
}

TlsSession::Io TlsSession::write(const char *data, size_t size, size_t &done)
{
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_write_ex(static_cast<SSL *>(m_ssl), data, size, &done);
    return ret == 1 ? Io::Ok : classify(ret);
}

bool TlsSession::hasPending() const
{
    return SSL_has_pending(static_cast<const SSL *>(m_ssl)) == 1;
}

} // namespace lockscope::redis::detail
