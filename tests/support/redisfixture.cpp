#include "redisfixture.h"

#include <QDir>
#include <QFile>
#include <QMutex>
#include <QMutexLocker>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

namespace lockscope::test {

using namespace redis;

namespace {

const QString kCertNode = QStringLiteral("test-certificates");

struct CertState
{
    QMutex mutex;
    std::unique_ptr<QTemporaryDir> dir;
    std::optional<Result<TestCertificates>> result;
};

CertState &certState()
{
    static CertState state;
    return state;
}

/// Runs openssl in `dir`; returns an error message or an empty string.
QString runOpenssl(const QString &dir, const QStringList &args)
{
    QProcess process;
    process.setWorkingDirectory(dir);
    process.setProgram(QStringLiteral("openssl"));
    process.setArguments(args);
    process.start();
    if (!process.waitForStarted(10000))
        return QStringLiteral("cannot run openssl: %1").arg(process.errorString());
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        return QStringLiteral("openssl %1 did not finish").arg(args.join(QLatin1Char(' ')));
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return QStringLiteral("openssl %1 failed: %2")
            .arg(args.join(QLatin1Char(' ')), QString::fromLocal8Bit(process.readAllStandardError()));
    return {};
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(content) == content.size();
}

/// A self-signed CA certificate + key.
QString makeCa(const QString &dir, const QString &name, const QString &subject)
{
    const QString ext = name + QStringLiteral(".cnf");
    if (!writeFile(dir + QLatin1Char('/') + ext, "[req]\n"
                                                 "distinguished_name = dn\n"
                                                 "x509_extensions = v3_ca\n"
                                                 "prompt = no\n"
                                                 "[dn]\n"
                                                 "[v3_ca]\n"
                                                 "basicConstraints = critical, CA:TRUE\n"
                                                 "keyUsage = critical, keyCertSign, cRLSign\n"
                                                 "subjectKeyIdentifier = hash\n"))
        return QStringLiteral("cannot write %1").arg(ext);
    return runOpenssl(dir,
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-new"),
                       QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                       QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                       QStringLiteral("-days"), QStringLiteral("3"), QStringLiteral("-subj"), subject,
                       QStringLiteral("-config"), ext, QStringLiteral("-keyout"),
                       name + QStringLiteral(".key"), QStringLiteral("-out"), name + QStringLiteral(".crt")});
}

/// A leaf certificate + key signed by the CA `ca`.
QString makeLeaf(const QString &dir, const QString &name, const QString &subject, const QString &ca,
                 const QByteArray &extensions)
{
    const QString ext = name + QStringLiteral(".ext");
    if (!writeFile(dir + QLatin1Char('/') + ext, extensions))
        return QStringLiteral("cannot write %1").arg(ext);
    QString error = runOpenssl(
        dir, {QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"), QStringLiteral("ec"),
              QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
              QStringLiteral("-nodes"), QStringLiteral("-subj"), subject, QStringLiteral("-keyout"),
              name + QStringLiteral(".key"), QStringLiteral("-out"), name + QStringLiteral(".csr")});
    if (!error.isEmpty())
        return error;
    return runOpenssl(dir, {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                            name + QStringLiteral(".csr"), QStringLiteral("-CA"), ca + QStringLiteral(".crt"),
                            QStringLiteral("-CAkey"), ca + QStringLiteral(".key"),
                            QStringLiteral("-CAcreateserial"), QStringLiteral("-days"), QStringLiteral("3"),
                            QStringLiteral("-extfile"), ext, QStringLiteral("-out"),
                            name + QStringLiteral(".crt")});
}

Result<TestCertificates> generateCertificates(QTemporaryDir &tempDir)
{
    if (!tempDir.isValid())
        return fail(ErrorKind::InvalidConfig, kCertNode,
                    QStringLiteral("cannot create a temporary directory: %1").arg(tempDir.errorString()));
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        return fail(ErrorKind::InvalidConfig, kCertNode, QStringLiteral("the openssl CLI is not installed"));

    const QString dir = tempDir.path();
    QString error = makeCa(dir, QStringLiteral("ca"), QStringLiteral("/CN=LockScope Test CA"));
    if (error.isEmpty())
        error = makeCa(dir, QStringLiteral("other-ca"), QStringLiteral("/CN=Unrelated Test CA"));
    if (error.isEmpty())
        error = makeLeaf(dir, QStringLiteral("server"), QStringLiteral("/CN=localhost"), QStringLiteral("ca"),
                         "basicConstraints = CA:FALSE\n"
                         "keyUsage = critical, digitalSignature, keyEncipherment\n"
                         "extendedKeyUsage = serverAuth\n"
                         "subjectAltName = DNS:localhost, IP:127.0.0.1\n");
    if (error.isEmpty())
        error = makeLeaf(dir, QStringLiteral("client"), QStringLiteral("/CN=lockscope-test-client"),
                         QStringLiteral("ca"),
                         "basicConstraints = CA:FALSE\n"
                         "keyUsage = critical, digitalSignature, keyEncipherment\n"
                         "extendedKeyUsage = clientAuth\n");
    if (!error.isEmpty())
        return fail(ErrorKind::InvalidConfig, kCertNode, error);

    TestCertificates certs;
    certs.dir = dir;
    certs.caFile = tempDir.filePath(QStringLiteral("ca.crt"));
    certs.serverCert = tempDir.filePath(QStringLiteral("server.crt"));
    certs.serverKey = tempDir.filePath(QStringLiteral("server.key"));
    certs.clientCert = tempDir.filePath(QStringLiteral("client.crt"));
    certs.clientKey = tempDir.filePath(QStringLiteral("client.key"));
    certs.otherCaFile = tempDir.filePath(QStringLiteral("other-ca.crt"));
    return certs;
}

} // namespace

Result<TestCertificates> testCertificates()
{
    CertState &state = certState();
    QMutexLocker locker(&state.mutex);
    if (!state.result) {
        state.dir =
            std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/lockscope-certs-XXXXXX"));
        state.result = generateCertificates(*state.dir);
    }
    return *state.result;
}

Result<std::unique_ptr<LocalRedisServer>> startServer(ServerKind kind)
{
    LocalServerOptions options;
    switch (kind) {
    case ServerKind::Plain:
        break;
    case ServerKind::Password:
        options.requirePass = QString::fromLatin1(kPassword);
        break;
    case ServerKind::Acl:
        // The default user stays open so that the fixture itself could inspect the server;
        // the tests authenticate as the named users.
        options.aclUsers << QStringLiteral("%1 on >%2 ~* &* +@all")
                                .arg(QLatin1String(kAclUser), QLatin1String(kAclPassword))
                         << QStringLiteral("%1 on >%2 ~* +ping +get")
                                .arg(QLatin1String(kLimitedUser), QLatin1String(kLimitedPassword));
        break;
    case ServerKind::Tls:
    case ServerKind::TlsClientAuth: {
        auto certs = testCertificates();
        if (!certs)
            return std::unexpected(certs.error());
        options.tls = true;
        options.tlsCertFile = certs->serverCert;
        options.tlsKeyFile = certs->serverKey;
        options.tlsCaFile = certs->caFile;
        options.tlsAuthClients = kind == ServerKind::TlsClientAuth;
        break;
    }
    case ServerKind::UnixSocket:
        options.unixSocket = true;
        break;
    }
    return LocalRedisServer::start(options);
}

NodeConfig clientConfig(const LocalRedisServer &server, ServerKind kind)
{
    NodeConfig config = server.nodeConfig();
    config.connectTimeout = std::chrono::milliseconds(3000);
    config.commandTimeout = std::chrono::milliseconds(5000);
    switch (kind) {
    case ServerKind::Plain:
    case ServerKind::Tls:
        break;
    case ServerKind::Password:
        config.password = QString::fromLatin1(kPassword);
        break;
    case ServerKind::Acl:
        config.username = QString::fromLatin1(kAclUser);
        config.password = QString::fromLatin1(kAclPassword);
        break;
    case ServerKind::TlsClientAuth:
        if (auto certs = testCertificates()) {
            config.tls.certFile = certs->clientCert;
            config.tls.keyFile = certs->clientKey;
        }
        break;
    case ServerKind::UnixSocket:
        config.transport = NodeConfig::Transport::Unix;
        config.unixPath = server.unixSocketPath();
        break;
    }
    return config;
}

QString kindName(ErrorKind kind)
{
    return RedisError::kindName(kind);
}

} // namespace lockscope::test
