#include "redis/nodeprobe.h"
#include "redisfixture.h"

#include <QTest>

using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

class TestNodeProbe : public QObject
{
    Q_OBJECT

private slots:
    void plainServer();
    void probeTwiceReusesConnection();
    void stoppedServer();
    void pausedServerTimesOut();
    void limitedAclUser();
    void limitedAclUserWithoutHello();
    void tlsServer();
    void wrongPassword();
    void evictionPolicy_data();
    void evictionPolicy();
};

namespace {

/// A plain server started with `extraArgs` (e.g. "--maxmemory-policy allkeys-lru").
Result<std::unique_ptr<LocalRedisServer>> startWith(const QStringList &extraArgs)
{
    LocalServerOptions options;
    options.extraArgs = extraArgs;
    return LocalRedisServer::start(options);
}

} // namespace

void TestNodeProbe::plainServer()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.name = QStringLiteral("probe-me");
    Connection connection(config);
    const QDateTime before = QDateTime::currentDateTime();
    const NodeStatus status = probeNode(connection);
    QVERIFY2(status.reachable, status.error ? qPrintable(status.error->toString()) : "no error");
    QVERIFY(!status.error.has_value());
    QCOMPARE(status.node, QStringLiteral("probe-me"));
    QVERIFY(status.latency > 0us);
    QVERIFY2(status.latency < 5s, qPrintable(QString::number(status.latency.count())));
    QVERIFY2(status.version.startsWith(QStringLiteral("7.")), qPrintable(status.version));
    QCOMPARE(status.role, QStringLiteral("master"));
    QCOMPARE(status.mode, QStringLiteral("standalone"));
    QVERIFY(status.checkedAt.isValid());
    QVERIFY(status.checkedAt >= before.addSecs(-1));
    // Redis' default policy never evicts: no fence warning.
    QCOMPARE(status.maxmemoryPolicy, QStringLiteral("noeviction"));
    QCOMPARE(status.maxmemory, qint64(0));
    QVERIFY(!status.fenceCountersEvictable());
    QVERIFY2(status.fenceWarning().isEmpty(), qPrintable(status.fenceWarning()));

    // The probe leaves the connection usable on RESP2 for ordinary commands.
    const auto reply = connection.command({"SET", "after-probe", "1"});
    LS_VERIFY_OK(reply);
    QVERIFY(reply->isOk());
}

void TestNodeProbe::probeTwiceReusesConnection()
{
    LS_START_SERVER(server, ServerKind::Plain);
    Connection connection(clientConfig(*server, ServerKind::Plain));
    const NodeStatus first = probeNode(connection);
    QVERIFY(first.reachable);
    const NodeStatus second = probeNode(connection);
    QVERIFY(second.reachable);
    QCOMPARE(second.version, first.version);
    QCOMPARE(connection.reconnectCount(), quint64(0));
}

void TestNodeProbe::stoppedServer()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.connectTimeout = 1000ms;
    server->stop();
    Connection connection(config);
    const NodeStatus status = probeNode(connection);
    QVERIFY(!status.reachable);
    QVERIFY(status.error.has_value());
    QCOMPARE(status.error->kind, ErrorKind::Refused);
    QCOMPARE(status.error->node, config.label());
    QVERIFY(status.version.isEmpty());
    QVERIFY(status.checkedAt.isValid());

    // Probing a node that went away after a successful probe also reports it.
    LS_START_SERVER(second, ServerKind::Plain);
    Connection live(clientConfig(*second, ServerKind::Plain));
    QVERIFY(probeNode(live).reachable);
    second->kill();
    const NodeStatus gone = probeNode(live);
    QVERIFY(!gone.reachable);
    QVERIFY(gone.error.has_value());
}

void TestNodeProbe::pausedServerTimesOut()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    config.connectTimeout = 300ms;
    config.commandTimeout = 300ms;
    Connection connection(config);
    QVERIFY(probeNode(connection).reachable);
    QVERIFY(server->pause());
    const auto start = std::chrono::steady_clock::now();
    const NodeStatus status = probeNode(connection);
    const qint64 elapsed = elapsedMs(start);
    QVERIFY(!status.reachable);
    QVERIFY(status.error.has_value());
    QCOMPARE(status.error->kind, ErrorKind::Timeout);
    QVERIFY2(elapsed < 600 + 2000, qPrintable(QString::number(elapsed)));
    QVERIFY(server->resume());
    QVERIFY(probeNode(connection).reachable);
}

void TestNodeProbe::limitedAclUser()
{
    LS_START_SERVER(server, ServerKind::Acl);
    NodeConfig config = clientConfig(*server, ServerKind::Acl);
    config.username = QString::fromLatin1(kLimitedUser); // ~* +ping +get: no INFO, ROLE, CLIENT
    config.password = QString::fromLatin1(kLimitedPassword);
    config.clientName.clear();
    Connection connection(config);
    const auto info = connection.command({"INFO", "server"});
    LS_VERIFY_ERROR(info, ErrorKind::NoPerm);

    const NodeStatus status = probeNode(connection);
    QVERIFY2(status.reachable, status.error ? qPrintable(status.error->toString()) : "no error");
    QVERIFY(!status.error.has_value());
    QVERIFY(status.latency > 0us);
    // Redis exempts HELLO from ACL checks (it is a no-auth command like AUTH), so even this
    // user learns the version; it must never come from a half-read INFO.
    QVERIFY2(status.version.isEmpty() || status.version.startsWith(QStringLiteral("7.")),
             qPrintable(status.version));
    // No INFO for this user: the policy stays unknown, which is no warning and no error.
    QVERIFY2(status.maxmemoryPolicy.isEmpty(), qPrintable(status.maxmemoryPolicy));
    QVERIFY(!status.fenceCountersEvictable());
    LS_VERIFY_OK(connection.command({"GET", "x"}));

    // The full-access user of the same server sees everything.
    Connection full(clientConfig(*server, ServerKind::Acl));
    const NodeStatus fullStatus = probeNode(full);
    QVERIFY(fullStatus.reachable);
    QVERIFY(fullStatus.version.startsWith(QStringLiteral("7.")));
    QCOMPARE(fullStatus.maxmemoryPolicy, QStringLiteral("noeviction"));
}

void TestNodeProbe::limitedAclUserWithoutHello()
{
    // HELLO cannot be denied through ACLs, so remove it: the probe falls back to INFO, which
    // this user may not run either, and must still report the node reachable.
    LocalServerOptions options;
    options.aclUsers << QStringLiteral("%1 on >%2 ~* +ping +get")
                            .arg(QLatin1String(kLimitedUser), QLatin1String(kLimitedPassword));
    options.extraArgs << QStringLiteral("--rename-command") << QStringLiteral("HELLO") << QString();
    auto started = LocalRedisServer::start(options);
    LS_VERIFY_OK(started);
    NodeConfig config = (*started)->nodeConfig();
    config.username = QString::fromLatin1(kLimitedUser);
    config.password = QString::fromLatin1(kLimitedPassword);
    config.clientName.clear();
    Connection connection(config);
    LS_VERIFY_ERROR(connection.command({"HELLO", "2"}), ErrorKind::Server);

    const NodeStatus status = probeNode(connection);
    QVERIFY2(status.reachable, status.error ? qPrintable(status.error->toString()) : "no error");
    QVERIFY(!status.error.has_value());
    QVERIFY(status.latency > 0us);
    QVERIFY2(status.version.isEmpty(), qPrintable(status.version));
    QVERIFY2(status.role.isEmpty(), qPrintable(status.role));

    // The default user (all commands) gets the version through INFO instead.
    Connection full((*started)->nodeConfig());
    const NodeStatus fullStatus = probeNode(full);
    QVERIFY(fullStatus.reachable);
    QVERIFY2(fullStatus.version.startsWith(QStringLiteral("7.")), qPrintable(fullStatus.version));
    QCOMPARE(fullStatus.role, QStringLiteral("master"));
}

void TestNodeProbe::tlsServer()
{
    LS_START_SERVER(server, ServerKind::Tls);
    Connection connection(clientConfig(*server, ServerKind::Tls));
    const NodeStatus status = probeNode(connection);
    QVERIFY2(status.reachable, status.error ? qPrintable(status.error->toString()) : "no error");
    QCOMPARE(status.role, QStringLiteral("master"));
}

void TestNodeProbe::wrongPassword()
{
    LS_START_SERVER(server, ServerKind::Password);
    NodeConfig config = clientConfig(*server, ServerKind::Password);
    config.password = QStringLiteral("nope");
    Connection connection(config);
    const NodeStatus status = probeNode(connection);
    QVERIFY(!status.reachable);
    QVERIFY(status.error.has_value());
    QCOMPARE(status.error->kind, ErrorKind::AuthFailed);
}

void TestNodeProbe::evictionPolicy_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("policy");
    QTest::addColumn<QString>("warning"); // empty: none

    QTest::addRow("default") << QStringList{} << QStringLiteral("noeviction") << QString();
    QTest::addRow("allkeys-lru") << QStringList{QStringLiteral("--maxmemory-policy"),
                                                QStringLiteral("allkeys-lru")}
                                 << QStringLiteral("allkeys-lru")
                                 << QStringLiteral("fence counters can be evicted once maxmemory is set "
                                                   "(maxmemory-policy allkeys-lru)");
    QTest::addRow("allkeys-lfu with maxmemory")
        << QStringList{QStringLiteral("--maxmemory-policy"), QStringLiteral("allkeys-lfu"),
                       QStringLiteral("--maxmemory"), QStringLiteral("64mb")}
        << QStringLiteral("allkeys-lfu")
        << QStringLiteral("fence counters can be evicted (maxmemory-policy allkeys-lfu)");
    QTest::addRow("allkeys-random") << QStringList{QStringLiteral("--maxmemory-policy"),
                                                   QStringLiteral("allkeys-random"),
                                                   QStringLiteral("--maxmemory"), QStringLiteral("64mb")}
                                    << QStringLiteral("allkeys-random")
                                    << QStringLiteral(
                                           "fence counters can be evicted (maxmemory-policy allkeys-random)");
    // volatile-* evicts only keys with a TTL; fence counters have none.
    QTest::addRow("volatile-lru") << QStringList{QStringLiteral("--maxmemory-policy"),
                                                 QStringLiteral("volatile-lru"),
                                                 QStringLiteral("--maxmemory"), QStringLiteral("64mb")}
                                  << QStringLiteral("volatile-lru") << QString();
}

void TestNodeProbe::evictionPolicy()
{
    QFETCH(QStringList, args);
    QFETCH(QString, policy);
    QFETCH(QString, warning);
    auto server = startWith(args);
    LS_VERIFY_OK(server);
    Connection connection((*server)->nodeConfig());
    const NodeStatus status = probeNode(connection);
    QVERIFY2(status.reachable, status.error ? qPrintable(status.error->toString()) : "no error");
    QVERIFY(!status.error.has_value());
    QCOMPARE(status.maxmemoryPolicy, policy);
    QCOMPARE(status.fenceCountersEvictable(), !warning.isEmpty());
    QCOMPARE(status.fenceWarning(), warning);

    // Read, never written: the probe leaves the server's policy as it was.
    const auto configured = connection.command({"CONFIG", "GET", "maxmemory-policy"});
    LS_VERIFY_OK(configured);
    QCOMPARE(configured->elements().at(1).bytes(), policy.toUtf8());
}

QTEST_GUILESS_MAIN(TestNodeProbe)
#include "tst_nodeprobe.moc"
