#pragma once

#include "redis/localserver.h"
#include "redis/nodeconfig.h"
#include "redis/rediserror.h"

#include <QByteArray>
#include <QString>
#include <QTest>
#include <chrono>
#include <memory>

namespace lockscope::test {

/// TLS material generated once per test process with the openssl CLI, in a private temporary
/// directory: a CA, a server certificate for "localhost" / 127.0.0.1 signed by it, a client
/// certificate signed by it, and a second, unrelated CA for "wrong CA" tests.
struct TestCertificates
{
    QString dir;
    QString caFile;
    QString serverCert;
    QString serverKey;
    QString clientCert;
    QString clientKey;
    QString otherCaFile; ///< a CA that signed nothing the servers use
};

/// Generates the certificates on first use. Errors (openssl missing, a command failing) come
/// back as InvalidConfig naming "test-certificates" and quoting openssl's stderr.
redis::Result<TestCertificates> testCertificates();

/// The server variants the integration tests run against.
enum class ServerKind
{
    Plain,         ///< no auth
    Password,      ///< requirepass kPassword
    Acl,           ///< ACL users kAclUser (all commands) and kLimitedUser (+ping +get only)
    Tls,           ///< TLS only, no client certificates required
    TlsClientAuth, ///< TLS only, client certificate required
    UnixSocket,    ///< TCP and a unix socket
};

inline constexpr char kPassword[] = "fixture-s3cret";
inline constexpr char kAclUser[] = "alice";
inline constexpr char kAclPassword[] = "alice-pw";
inline constexpr char kLimitedUser[] = "limited";
inline constexpr char kLimitedPassword[] = "limited-pw";

/// Starts a fresh redis-server of the given kind on a free loopback port (never 6379).
redis::Result<std::unique_ptr<redis::LocalRedisServer>> startServer(ServerKind kind);

/// A client configuration that can talk to `server` of the given kind: credentials for
/// Password / Acl (the full-access user), the client certificate for TlsClientAuth, the unix
/// socket for UnixSocket. Short timeouts so that a failing test fails fast.
redis::NodeConfig clientConfig(const redis::LocalRedisServer &server, ServerKind kind);

/// "ok" or the error's one-line form, for QVERIFY2 messages (safe to call on success).
template <typename T>
QByteArray describe(const redis::Result<T> &result)
{
    return result ? QByteArray("ok") : result.error().toString().toUtf8();
}

QString kindName(redis::ErrorKind kind);

/// Milliseconds elapsed since `start`.
inline qint64 elapsedMs(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
        .count();
}

} // namespace lockscope::test

/// Fails the current test function unless `result` holds a value.
#define LS_VERIFY_OK(result)                                                                                 \
    do {                                                                                                     \
        const auto &lsResult_ = (result);                                                                    \
        QVERIFY2(lsResult_.has_value(), ::lockscope::test::describe(lsResult_).constData());                 \
    } while (false)

/// Fails the current test function unless `result` holds an error of `expectedKind`.
#define LS_VERIFY_ERROR(result, expectedKind)                                                                \
    do {                                                                                                     \
        const auto &lsResult_ = (result);                                                                    \
        QVERIFY2(!lsResult_.has_value(), "expected an error, got a value");                                  \
        QVERIFY2(                                                                                            \
            lsResult_.error().kind == (expectedKind),                                                        \
            qPrintable(QStringLiteral("expected %1, got %2")                                                 \
                           .arg(::lockscope::test::kindName(expectedKind), lsResult_.error().toString())));  \
    } while (false)

/// Declares `name` as a started server of `kind`, failing the test function if it cannot start.
#define LS_START_SERVER(name, kind)                                                                          \
    auto name##Started_ = ::lockscope::test::startServer(kind);                                              \
    QVERIFY2(name##Started_.has_value(), ::lockscope::test::describe(name##Started_).constData());           \
    std::unique_ptr<::lockscope::redis::LocalRedisServer> name = std::move(*name##Started_)
