#include "redis/connection.h"
#include "redisfixture.h"

#include <QTest>

using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

class TestTls : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void rightCa();
    void hostNameLocalhost();
    void wrongCaIsTlsError();
    void verifyOffAcceptsWrongCa();
    void noCaFileUsesSystemStoreAndFails();
    void sniMismatchIsTlsError();
    void sniMatchingNameWorks();
    void clientCertificateGiven();
    void clientCertificateMissing();
    void clientCertificateFromOtherCa();
    void plaintextClientOnTlsPort();
    void tlsClientOnPlainPort_data();
    void tlsClientOnPlainPort();
    void tlsAndPassword();

private:
    TestCertificates m_certs;
};

void TestTls::initTestCase()
{
    const auto certs = testCertificates();
    LS_VERIFY_OK(certs);
    m_certs = *certs;
}

void TestTls::rightCa()
{
    LS_START_SERVER(server, ServerKind::Tls);
    const NodeConfig config = clientConfig(*server, ServerKind::Tls);
    QVERIFY(config.tls.enabled);
    QVERIFY(config.tls.verifyPeer);
    QCOMPARE(config.tls.caFile, m_certs.caFile);
    Connection connection(config);
    const auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
    // Large values cross TLS record boundaries intact.
    const QByteArray big(300 * 1024, 'x');
    LS_VERIFY_OK(connection.command({"SET", "big", big}));
    const auto get = connection.command({"GET", "big"});
    LS_VERIFY_OK(get);
    QVERIFY(get->bytes() == big);

    const auto url = NodeConfig::fromUrl(server->url());
    LS_VERIFY_OK(url);
    Connection viaUrl(*url);
    LS_VERIFY_OK(viaUrl.command({"PING"}));
}

void TestTls::hostNameLocalhost()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.host = QStringLiteral("localhost");
    Connection connection(config);
    const auto result = connection.connect();
    // localhost may resolve to ::1 first, where the server does not listen; the connection has
    // to fall back to 127.0.0.1 and verify the DNS name.
    LS_VERIFY_OK(result);
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestTls::wrongCaIsTlsError()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.name = QStringLiteral("tls-node");
    config.tls.caFile = m_certs.otherCaFile;
    Connection connection(config);
    const auto result = connection.connect();
    LS_VERIFY_ERROR(result, ErrorKind::Tls);
    qInfo() << "wrong CA:" << result.error().toString();
    QCOMPARE(result.error().node, QStringLiteral("tls-node"));
    QVERIFY2(result.error().message.contains(QStringLiteral("certificate"), Qt::CaseInsensitive) &&
                 result.error().message.contains(QStringLiteral("verif"), Qt::CaseInsensitive),
             qPrintable(result.error().toString()));
    QVERIFY(!connection.isConnected());
}

void TestTls::verifyOffAcceptsWrongCa()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.tls.caFile = m_certs.otherCaFile;
    config.tls.verifyPeer = false;
    config.tls.serverName = QStringLiteral("wrong.example");
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestTls::noCaFileUsesSystemStoreAndFails()
{
    // Our test CA is not in the system store, so the default trust must reject the server.
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.tls.caFile.clear();
    Connection connection(config);
    LS_VERIFY_ERROR(connection.connect(), ErrorKind::Tls);
}

void TestTls::sniMismatchIsTlsError()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.tls.serverName = QStringLiteral("wrong.example");
    Connection connection(config);
    const auto result = connection.connect();
    LS_VERIFY_ERROR(result, ErrorKind::Tls);
    qInfo() << "name mismatch:" << result.error().toString();
    QVERIFY2(!result.error().message.isEmpty(), qPrintable(result.error().toString()));
}

void TestTls::sniMatchingNameWorks()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.tls.serverName = QStringLiteral("localhost"); // connect to 127.0.0.1, verify "localhost"
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"PING"}));
}

void TestTls::clientCertificateGiven()
{
    LS_START_SERVER(server, ServerKind::TlsClientAuth);
    const NodeConfig config = clientConfig(*server, ServerKind::TlsClientAuth);
    QVERIFY(!config.tls.certFile.isEmpty());
    Connection connection(config);
    const auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
}

void TestTls::clientCertificateMissing()
{
    LS_START_SERVER(server, ServerKind::TlsClientAuth);
    NodeConfig config = clientConfig(*server, ServerKind::Tls); // no client certificate
    config.name = QStringLiteral("mtls-node");
    config.connectTimeout = 2000ms;
    Connection connection(config);
    // With TLS 1.3 the server's rejection may only arrive with the first reply.
    auto result = connection.connect();
    Result<RedisReply> reply = fail(ErrorKind::Io, QString(), QString());
    if (result)
        reply = connection.command({"PING"});
    const RedisError error = result ? (reply ? RedisError{} : reply.error()) : result.error();
    QVERIFY2(!result || !reply, "a client without certificate was served");
    qInfo() << "missing client certificate:" << error.toString();
    QVERIFY2(error.kind == ErrorKind::Tls || error.kind == ErrorKind::ConnectionClosed,
             qPrintable(error.toString()));
    QCOMPARE(error.node, QStringLiteral("mtls-node"));
}

void TestTls::clientCertificateFromOtherCa()
{
    LS_START_SERVER(server, ServerKind::TlsClientAuth);
    NodeConfig config = clientConfig(*server, ServerKind::TlsClientAuth);
    // A certificate the server does not trust: the other CA's own self-signed certificate.
    config.tls.certFile = m_certs.otherCaFile;
    config.tls.keyFile = m_certs.dir + QStringLiteral("/other-ca.key");
    Connection connection(config);
    auto result = connection.connect();
    Result<RedisReply> reply = fail(ErrorKind::Io, QString(), QString());
    if (result)
        reply = connection.command({"PING"});
    QVERIFY2(!result || !reply, "a client with an untrusted certificate was served");
}

void TestTls::plaintextClientOnTlsPort()
{
    LS_START_SERVER(server, ServerKind::Tls);
    NodeConfig config = clientConfig(*server, ServerKind::Tls);
    config.tls.enabled = false;
    config.connectTimeout = 1000ms;
    config.commandTimeout = 1000ms;
    Connection connection(config);
    const auto start = std::chrono::steady_clock::now();
    auto result = connection.command({"PING"});
    QVERIFY(!result.has_value());
    QVERIFY2(elapsedMs(start) < 2000 + 2000, qPrintable(result.error().toString()));
}

void TestTls::tlsClientOnPlainPort_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("plain server (PING answers +PONG)") << int(ServerKind::Plain);
    QTest::newRow("password server (PING answers -NOAUTH)") << int(ServerKind::Password);
}

// rediss:// to a port that speaks plain RESP: the server reads the ClientHello as the start of an
// inline command and waits, so the handshake only times out. The error says what is wrong (not
// a TLS port; use redis://) with its own kind, instead of "handshake timeout".
void TestTls::tlsClientOnPlainPort()
{
    QFETCH(int, kind);
    LS_START_SERVER(server, ServerKind(kind));
    NodeConfig config = clientConfig(*server, ServerKind(kind));
    config.tls.enabled = true;
    config.tls.caFile = m_certs.caFile;
    config.connectTimeout = 500ms;
    Connection connection(config);
    auto result = connection.command({"SET", "written", "1"});
    QVERIFY(!result.has_value());
    QCOMPARE(result.error().kind, ErrorKind::NotTls);
    QVERIFY2(result.error().message.contains(QLatin1String("does not speak TLS")) &&
                 result.error().message.contains(QLatin1String("redis://")),
             qPrintable(result.error().toString()));
    QCOMPARE(result.error().node, config.label());
    // Nothing was written: the probe sends PING only.
    NodeConfig plain = clientConfig(*server, ServerKind(kind));
    Connection admin(plain);
    const auto size = admin.command({"DBSIZE"});
    LS_VERIFY_OK(size);
    QCOMPARE(size->integer(), 0);
}

void TestTls::tlsAndPassword()
{
    auto certs = testCertificates();
    LS_VERIFY_OK(certs);
    LocalServerOptions options;
    options.tls = true;
    options.tlsCertFile = certs->serverCert;
    options.tlsKeyFile = certs->serverKey;
    options.tlsCaFile = certs->caFile;
    options.requirePass = QString::fromLatin1(kPassword);
    auto started = LocalRedisServer::start(options);
    LS_VERIFY_OK(started);
    NodeConfig config = (*started)->nodeConfig();
    config.password = QString::fromLatin1(kPassword);
    Connection connection(config);
    const auto who = connection.command({"ACL", "WHOAMI"});
    LS_VERIFY_OK(who);
    QCOMPARE(who->bytes(), QByteArray("default"));

    config.password = QStringLiteral("wrong");
    Connection wrong(config);
    LS_VERIFY_ERROR(wrong.connect(), ErrorKind::AuthFailed);
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
