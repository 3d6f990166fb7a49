#include "lockctlrunner.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <chrono>

using namespace lockscope;
using lockscope::test::ServerKind;

namespace {

using test::describe;
using test::RunResult;

RunResult runLockctl(const QStringList &args, int timeoutMs = 30000)
{
    return test::runLockctl(args, {}, timeoutMs);
}

/// The version the installed redis-server reports, e.g. "7.0.15".
QString redisServerVersion()
{
    QProcess process;
    process.start(QStringLiteral("redis-server"), {QStringLiteral("--version")});
    process.waitForFinished(10000);
    static const QRegularExpression versionPattern(QStringLiteral(R"(v=(\d+\.\d+\.\d+))"));
    return versionPattern.match(QString::fromUtf8(process.readAllStandardOutput())).captured(1);
}

/// The table part of `lockctl ping` (the breaker lines follow after an empty line).
QStringList tableLines(const QString &out)
{
    return out.section(QStringLiteral("\n\n"), 0, 0).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

/// The `breaker:` line of `node` beneath the ping table.
QString breakerLine(const QString &out, const QString &node)
{
    for (const QString &line : out.split(QLatin1Char('\n'))) {
        if (line.startsWith(node + QLatin1Char(' ')) && line.contains(QStringLiteral("breaker: ")))
            return line.section(QStringLiteral("breaker: "), 1);
    }
    return {};
}

/// A loopback port that nothing listens on: a server we started and killed.
quint16 closedPort()
{
    auto server = test::startServer(ServerKind::Plain);
    if (!server)
        return 0;
    const quint16 port = (*server)->port();
    (*server)->kill();
    return port;
}

} // namespace

class TestLockctl : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void version();
    void help();
    void unknownCommand();
    void pingWithoutUrl();
    void pingLiveNode();
    void pingJson();
    void pingTls();
    void pingFenceWarning();
    void malformedUrlContactsNothing();
    void malformedTimeout();
    void killedNode();
    void wrongPassword();
    void pausedNodeTimesOut();
    void twoNodesOneDown();
    void twoNodesOneDownJson();
    void pingBreakerLiveNodeClosed();
    void pingBreakerOpensOnKilledNode();
    void pingBreakerCountsOneFailure();
    void pingCountUsage();
    void benchPingJson();
    void benchPingPipelineTable();
    void benchPingDownNode();
    void productionRefusalNamesWhatIsNeeded();

private:
    std::unique_ptr<redis::LocalRedisServer> m_server;
    QString m_url;
    QString m_node;
    QString m_version;
};

void TestLockctl::initTestCase()
{
    QVERIFY2(QFile::exists(QStringLiteral(LOCKCTL_PATH)), LOCKCTL_PATH);
    m_version = redisServerVersion();
    QVERIFY2(!m_version.isEmpty(), "redis-server --version printed no version");
    auto server = test::startServer(ServerKind::Plain);
    QVERIFY2(server.has_value(), test::describe(server).constData());
    m_server = std::move(*server);
    m_url = m_server->url();
    m_node = QStringLiteral("127.0.0.1:%1").arg(m_server->port());
    QVERIFY(m_server->port() != 6379);
}

void TestLockctl::cleanupTestCase()
{
    m_server.reset();
}

void TestLockctl::version()
{
    const RunResult result = runLockctl({QStringLiteral("--version")});
    QCOMPARE(result.exitCode, 0);
    QVERIFY2(result.out.startsWith(QStringLiteral("lockctl ")), describe(result).constData());
}

void TestLockctl::help()
{
    const RunResult top = runLockctl({QStringLiteral("--help")});
    QCOMPARE(top.exitCode, 0);
    QVERIFY(top.out.contains(QStringLiteral("ping")));
    QVERIFY(top.out.contains(QStringLiteral("bench")));

    const RunResult ping = runLockctl({QStringLiteral("help"), QStringLiteral("ping")});
    QCOMPARE(ping.exitCode, 0);
    QVERIFY(ping.out.contains(QStringLiteral("--json")));
    QVERIFY(ping.out.contains(QStringLiteral("--timeout")));

    const RunResult bench =
        runLockctl({QStringLiteral("bench"), QStringLiteral("ping"), QStringLiteral("--help")});
    QCOMPARE(bench.exitCode, 0);
    QVERIFY(bench.out.contains(QStringLiteral("--pipeline")));
}

void TestLockctl::unknownCommand()
{
    const RunResult result = runLockctl({QStringLiteral("frobnicate")});
    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.errLines().size(), 1);
    QVERIFY(result.err.contains(QStringLiteral("frobnicate")));
}

void TestLockctl::pingWithoutUrl()
{
    const RunResult result = runLockctl({QStringLiteral("ping")});
    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.errLines().size(), 1);
}

void TestLockctl::pingLiveNode()
{
    const RunResult result = runLockctl({QStringLiteral("ping"), m_url});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY2(result.err.isEmpty(), describe(result).constData());
    const QStringList lines = tableLines(result.out);
    QCOMPARE(lines.size(), 2); // header + one node
    QVERIFY(lines[0].contains(QStringLiteral("STATUS")));
    const QString row = lines[1];
    QVERIFY2(row.startsWith(m_node), qPrintable(row));
    QVERIFY2(row.contains(QStringLiteral(" up ")), qPrintable(row));
    QVERIFY2(row.contains(m_version), qPrintable(row));
    QVERIFY2(row.contains(QStringLiteral("master")), qPrintable(row));
    QVERIFY2(row.contains(QRegularExpression(QStringLiteral(R"(\d+\.\d\d ms)"))), qPrintable(row));
}

void TestLockctl::pingJson()
{
    const RunResult result = runLockctl({QStringLiteral("ping"), m_url, QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(result.out.toUtf8(), &parseError);
    QVERIFY2(parseError.error == QJsonParseError::NoError, qPrintable(parseError.errorString()));
    QVERIFY(document.isArray());
    const QJsonArray nodes = document.array();
    QCOMPARE(nodes.size(), 1);
    const QJsonObject node = nodes[0].toObject();
    QCOMPARE(node.value(QStringLiteral("node")).toString(), m_node);
    QCOMPARE(node.value(QStringLiteral("address")).toString(), m_node);
    QCOMPARE(node.value(QStringLiteral("up")).toBool(false), true);
    QCOMPARE(node.value(QStringLiteral("version")).toString(), m_version);
    QCOMPARE(node.value(QStringLiteral("role")).toString(), QStringLiteral("master"));
    QVERIFY(node.value(QStringLiteral("latency_ms")).toDouble() > 0);
    QVERIFY(node.value(QStringLiteral("error")).isNull());
    QCOMPARE(node.value(QStringLiteral("maxmemory_policy")).toString(), QStringLiteral("noeviction"));
    QVERIFY(node.contains(QStringLiteral("fence_warning")));
    QVERIFY(node.value(QStringLiteral("fence_warning")).isNull());
}

void TestLockctl::pingTls()
{
    LS_START_SERVER(tls, ServerKind::Tls);
    const RunResult result = runLockctl({QStringLiteral("ping"), tls->url(), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    const QJsonObject node = QJsonDocument::fromJson(result.out.toUtf8()).array().at(0).toObject();
    QCOMPARE(node.value(QStringLiteral("up")).toBool(false), true);
    QCOMPARE(node.value(QStringLiteral("tls")).toBool(false), true);
    QCOMPARE(node.value(QStringLiteral("version")).toString(), m_version);
}

void TestLockctl::pingFenceWarning()
{
    // A node whose eviction policy can evict fence counters, next to one that cannot.
    redis::LocalServerOptions options;
    options.extraArgs = {QStringLiteral("--maxmemory-policy"), QStringLiteral("allkeys-lru"),
                         QStringLiteral("--maxmemory"), QStringLiteral("64mb")};
    auto started = redis::LocalRedisServer::start(options);
    QVERIFY2(started.has_value(), describe(started).constData());
    const QString riskyUrl = (*started)->url();
    const QString warning = QStringLiteral("fence counters can be evicted (maxmemory-policy allkeys-lru)");

    const RunResult table = runLockctl({QStringLiteral("ping"), riskyUrl, m_url});
    QVERIFY2(table.exitCode == 0, describe(table).constData());
    QVERIFY2(table.err.isEmpty(), describe(table).constData());
    const QStringList lines = tableLines(table.out);
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines[0].contains(QStringLiteral("WARNING")), qPrintable(lines[0]));
    QVERIFY2(lines[1].contains(warning), qPrintable(lines[1]));
    QVERIFY2(!lines[2].contains(QStringLiteral("evicted")), qPrintable(lines[2]));

    const RunResult json = runLockctl({QStringLiteral("ping"), riskyUrl, m_url, QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, describe(json).constData());
    const QJsonArray nodes = QJsonDocument::fromJson(json.out.toUtf8()).array();
    QCOMPARE(nodes.size(), 2);
    QCOMPARE(nodes[0].toObject().value(QStringLiteral("maxmemory_policy")).toString(),
             QStringLiteral("allkeys-lru"));
    QCOMPARE(nodes[0].toObject().value(QStringLiteral("fence_warning")).toString(), warning);
    QVERIFY(nodes[1].toObject().value(QStringLiteral("fence_warning")).isNull());
}

void TestLockctl::malformedUrlContactsNothing()
{
    // A connection of our own, opened before, counts the connections the server accepts.
    redis::Connection observer(m_server->nodeConfig());
    const auto connectionsReceived = [&]() -> qint64 {
        auto info = observer.command({QByteArrayView("INFO"), QByteArrayView("stats")});
        if (!info)
            return -1;
        static const QRegularExpression pattern(QStringLiteral(R"(total_connections_received:(\d+))"));
        return pattern.match(QString::fromUtf8(info->bytes())).captured(1).toLongLong();
    };
    const qint64 before = connectionsReceived();
    QVERIFY(before > 0);

    const QString bad = QStringLiteral("redis://127.0.0.1:notaport");
    const RunResult result = runLockctl({QStringLiteral("ping"), m_url, bad});
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.out.isEmpty(), describe(result).constData());
    const QStringList lines = result.errLines();
    QVERIFY2(lines.size() == 1, describe(result).constData());
    QVERIFY2(lines[0].contains(bad), qPrintable(lines[0]));
    // The valid node next to the malformed one was not contacted either.
    QCOMPARE(connectionsReceived(), before);
}

void TestLockctl::malformedTimeout()
{
    const RunResult result =
        runLockctl({QStringLiteral("ping"), m_url, QStringLiteral("--timeout"), QStringLiteral("soon")});
    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.errLines().size(), 1);
    QVERIFY(result.err.contains(QStringLiteral("soon")));
}

void TestLockctl::killedNode()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QString node = QStringLiteral("127.0.0.1:%1").arg(port);
    const RunResult result = runLockctl({QStringLiteral("ping"), QStringLiteral("redis://") + node});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    const QStringList lines = result.errLines();
    QVERIFY2(lines.size() == 1, describe(result).constData());
    QVERIFY2(lines[0].contains(node), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(lines[0]));
    QVERIFY2(result.out.contains(QStringLiteral("down")), describe(result).constData());
}

void TestLockctl::wrongPassword()
{
    LS_START_SERVER(secured, ServerKind::Password);
    const QString url = QStringLiteral("redis://:not-the-password@127.0.0.1:%1").arg(secured->port());
    const RunResult result = runLockctl({QStringLiteral("ping"), url});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    const QStringList lines = result.errLines();
    QVERIFY2(lines.size() == 1, describe(result).constData());
    QVERIFY2(lines[0].contains(QStringLiteral("authentication failed")), qPrintable(lines[0]));
    QVERIFY2(!result.err.contains(QStringLiteral("not-the-password")), "the password leaked into stderr");
    QVERIFY2(!result.out.contains(QStringLiteral("not-the-password")), "the password leaked into stdout");
}

void TestLockctl::pausedNodeTimesOut()
{
    LS_START_SERVER(paused, ServerKind::Plain);
    QVERIFY(paused->pause());
    const auto start = std::chrono::steady_clock::now();
    const RunResult result = runLockctl(
        {QStringLiteral("ping"), paused->url(), QStringLiteral("--timeout"), QStringLiteral("300ms")});
    const qint64 elapsed = test::elapsedMs(start);
    QVERIFY(paused->resume());
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    const QStringList lines = result.errLines();
    QVERIFY2(lines.size() == 1, describe(result).constData());
    QVERIFY2(lines[0].contains(QStringLiteral("timeout")), qPrintable(lines[0]));
    // Process start-up included; the point is that it does not wait for the default 2 s.
    QVERIFY2(elapsed < 1900, qPrintable(QStringLiteral("took %1 ms").arg(elapsed)));
}

void TestLockctl::twoNodesOneDown()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QString down = QStringLiteral("127.0.0.1:%1").arg(port);
    const RunResult result = runLockctl({QStringLiteral("ping"), m_url, QStringLiteral("redis://") + down});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    const QStringList lines = tableLines(result.out);
    QVERIFY2(lines.size() == 3, describe(result).constData());
    // Rows keep the order of the arguments.
    QVERIFY(lines[1].startsWith(m_node));
    QVERIFY(lines[1].contains(QStringLiteral(" up ")));
    QVERIFY(lines[2].startsWith(down));
    QVERIFY(lines[2].contains(QStringLiteral(" down ")));
    const QStringList errors = result.errLines();
    QVERIFY2(errors.size() == 1, describe(result).constData());
    QVERIFY(errors[0].contains(down));
}

void TestLockctl::twoNodesOneDownJson()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QString down = QStringLiteral("127.0.0.1:%1").arg(port);
    const RunResult result = runLockctl(
        {QStringLiteral("ping"), QStringLiteral("--json"), QStringLiteral("redis://") + down, m_url});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    const QJsonArray nodes = QJsonDocument::fromJson(result.out.toUtf8()).array();
    QCOMPARE(nodes.size(), 2);
    const QJsonObject first = nodes[0].toObject();
    const QJsonObject second = nodes[1].toObject();
    QCOMPARE(first.value(QStringLiteral("node")).toString(), down);
    QCOMPARE(first.value(QStringLiteral("up")).toBool(true), false);
    QCOMPARE(first.value(QStringLiteral("error_kind")).toString(), QStringLiteral("refused"));
    QVERIFY(first.value(QStringLiteral("error")).toString().contains(down));
    QVERIFY(first.value(QStringLiteral("latency_ms")).isNull());
    QCOMPARE(second.value(QStringLiteral("node")).toString(), m_node);
    QCOMPARE(second.value(QStringLiteral("up")).toBool(false), true);
    QCOMPARE(second.value(QStringLiteral("version")).toString(), m_version);
}

void TestLockctl::pingBreakerLiveNodeClosed()
{
    const RunResult result =
        runLockctl({QStringLiteral("ping"), m_url, QStringLiteral("--count"), QStringLiteral("2"),
                    QStringLiteral("--interval"), QStringLiteral("50ms")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QCOMPARE(breakerLine(result.out, m_node), QStringLiteral("closed"));
    const RunResult json = runLockctl({QStringLiteral("ping"), m_url, QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, describe(json).constData());
    const QJsonObject breaker = QJsonDocument::fromJson(json.out.toUtf8())
                                    .array()
                                    .at(0)
                                    .toObject()
                                    .value(QStringLiteral("breaker"))
                                    .toObject();
    QCOMPARE(breaker.value(QStringLiteral("state")).toString(), QStringLiteral("closed"));
    QCOMPARE(breaker.value(QStringLiteral("consecutive_failures")).toInt(-1), 0);
    QVERIFY(breaker.value(QStringLiteral("last_cause")).isNull());
    QVERIFY(breaker.value(QStringLiteral("last_failure_at")).isNull());
    QVERIFY(breaker.value(QStringLiteral("open_until")).isNull());
    QCOMPARE(breaker.value(QStringLiteral("opens")).toInt(-1), 0);
}

void TestLockctl::pingBreakerOpensOnKilledNode()
{
    auto server = test::startServer(ServerKind::Plain);
    QVERIFY(server);
    const QString node = QStringLiteral("127.0.0.1:%1").arg((*server)->port());
    const QString url = (*server)->url();
    (*server)->kill();
    const QStringList args{QStringLiteral("ping"),       url,
                           QStringLiteral("--count"),    QStringLiteral("4"),
                           QStringLiteral("--interval"), QStringLiteral("50ms")};

    const RunResult table = runLockctl(args);
    QVERIFY2(table.exitCode == 1, describe(table).constData()); // as without --count
    QVERIFY2(tableLines(table.out).value(1).contains(QStringLiteral(" down ")), describe(table).constData());
    const QString line = breakerLine(table.out, node);
    static const QRegularExpression open(QStringLiteral(
        R"(^open until \d\d:\d\d:\d\d after 3 failures \(connection refused: .*; last failure read \d\d:\d\d:\d\d\), 1 probe not sent$)"));
    QVERIFY2(open.match(line).hasMatch(), describe(table).constData());
    QVERIFY2(line.contains(node), qPrintable(line));
    // Said once, in ping's own words: not again by the library's log line on stderr.
    QVERIFY2(!table.err.contains(QStringLiteral("circuit breaker of")), describe(table).constData());

    const RunResult json = runLockctl(args + QStringList{QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 1, describe(json).constData());
    const QJsonObject object = QJsonDocument::fromJson(json.out.toUtf8()).array().at(0).toObject();
    QCOMPARE(object.value(QStringLiteral("up")).toBool(true), false); // the old fields stay
    QCOMPARE(object.value(QStringLiteral("error_kind")).toString(), QStringLiteral("refused"));
    const QJsonObject breaker = object.value(QStringLiteral("breaker")).toObject();
    QCOMPARE(breaker.value(QStringLiteral("state")).toString(), QStringLiteral("open"));
    QCOMPARE(breaker.value(QStringLiteral("consecutive_failures")).toInt(), 3);
    QVERIFY2(breaker.value(QStringLiteral("last_cause"))
                 .toString()
                 .startsWith(QStringLiteral("connection refused")),
             describe(json).constData());
    QCOMPARE(breaker.value(QStringLiteral("opens")).toInt(), 1);
    QCOMPARE(breaker.value(QStringLiteral("probes_not_sent")).toInt(), 1);
    const QDateTime failedAt =
        QDateTime::fromString(breaker.value(QStringLiteral("last_failure_at")).toString(), Qt::ISODateWithMs);
    const QDateTime openUntil =
        QDateTime::fromString(breaker.value(QStringLiteral("open_until")).toString(), Qt::ISODateWithMs);
    QVERIFY2(failedAt.isValid() && openUntil.isValid(), describe(json).constData());
    QVERIFY(qAbs(failedAt.secsTo(QDateTime::currentDateTime())) < 60);
    QVERIFY(openUntil > failedAt);
}

void TestLockctl::pingBreakerCountsOneFailure()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QString node = QStringLiteral("127.0.0.1:%1").arg(port);
    const RunResult result = runLockctl({QStringLiteral("ping"), QStringLiteral("redis://") + node});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    QVERIFY2(breakerLine(result.out, node)
                 .startsWith(QStringLiteral("closed (1 of 3 failures: connection refused")),
             describe(result).constData());
    QVERIFY2(result.errLines().size() == 1, describe(result).constData());
}

void TestLockctl::pingCountUsage()
{
    for (const QStringList &bad : {QStringList{QStringLiteral("--count"), QStringLiteral("0")},
                                   QStringList{QStringLiteral("--count"), QStringLiteral("many")},
                                   QStringList{QStringLiteral("--interval"), QStringLiteral("soon")}}) {
        const RunResult result = runLockctl(QStringList{QStringLiteral("ping"), m_url} + bad);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QVERIFY2(result.err.contains(bad[0]), describe(result).constData());
    }
}

void TestLockctl::benchPingJson()
{
    const RunResult result =
        runLockctl({QStringLiteral("bench"), QStringLiteral("ping"), m_url, QStringLiteral("-n"),
                    QStringLiteral("2000"), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QJsonParseError parseError;
    const QJsonObject report = QJsonDocument::fromJson(result.out.toUtf8(), &parseError).object();
    QVERIFY2(parseError.error == QJsonParseError::NoError, qPrintable(parseError.errorString()));
    QCOMPARE(report.value(QStringLiteral("requests")).toInteger(), 2000);
    QCOMPARE(report.value(QStringLiteral("round_trips")).toInteger(), 2000);
    QVERIFY(report.value(QStringLiteral("rps")).toDouble() > 0);
    const double p50 = report.value(QStringLiteral("p50_us")).toDouble();
    const double p99 = report.value(QStringLiteral("p99_us")).toDouble();
    QVERIFY(p50 > 0);
    QVERIFY(p99 >= p50);
}

void TestLockctl::benchPingPipelineTable()
{
    const RunResult result =
        runLockctl({QStringLiteral("bench"), QStringLiteral("ping"), m_url, QStringLiteral("-n"),
                    QStringLiteral("1000"), QStringLiteral("--pipeline"), QStringLiteral("16")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY(result.out.contains(QStringLiteral("round-trips/s")));
    QVERIFY(result.out.contains(QStringLiteral("requests/s")));
    QVERIFY(result.out.contains(QStringLiteral("p99")));
}

void TestLockctl::benchPingDownNode()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const RunResult result = runLockctl({QStringLiteral("bench"), QStringLiteral("ping"),
                                         QStringLiteral("redis://127.0.0.1:%1").arg(port),
                                         QStringLiteral("-n"), QStringLiteral("10")});
    QCOMPARE(result.exitCode, 1);
    QCOMPARE(result.errLines().size(), 1);
}

void TestLockctl::productionRefusalNamesWhatIsNeeded()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const auto writeGroup = [&](bool readOnly) {
        const QJsonObject node{{QStringLiteral("url"), m_url},
                               {QStringLiteral("read_only"), readOnly},
                               {QStringLiteral("production"), true}};
        const QJsonObject root{{QStringLiteral("version"), 1},
                               {QStringLiteral("groups"),
                                QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("prod")},
                                                       {QStringLiteral("nodes"), QJsonArray{node}}}}}};
        QFile file(config);
        return file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
               file.write(QJsonDocument(root).toJson()) > 0;
    };
    const auto acquire = [&](bool yes) {
        QStringList args{QStringLiteral("acquire"), QStringLiteral("lockctl-test:production"),
                         QStringLiteral("--ttl"),   QStringLiteral("10s"),
                         QStringLiteral("--group"), QStringLiteral("prod")};
        if (yes)
            args << QStringLiteral("--yes");
        return test::runLockctl(args, {{QStringLiteral("LOCKSCOPE_CONFIG"), config}});
    };
    redis::Connection admin(m_server->nodeConfig());
    const auto exists = [&] {
        const auto reply = admin.command({"EXISTS", "lockctl-test:production"});
        return reply && reply->integer() == 1;
    };

    // Production only: --yes is what is missing, and it is enough.
    QVERIFY(writeGroup(false));
    const RunResult refused = acquire(false);
    QVERIFY2(refused.exitCode == 2, describe(refused).constData());
    QVERIFY2(refused.err.contains(QStringLiteral("marked production: taking a lock needs --yes")),
             describe(refused).constData());
    QVERIFY(!exists());
    const RunResult confirmed = acquire(true);
    QVERIFY2(confirmed.exitCode == 0, describe(confirmed).constData());
    QVERIFY(exists());
    LS_VERIFY_OK(admin.command({"DEL", "lockctl-test:production"}));

    // Production and read-only: --yes would not be enough, so the refusal does not ask for it.
    QVERIFY(writeGroup(true));
    const RunResult readOnly = acquire(false);
    QVERIFY2(readOnly.exitCode == 2, describe(readOnly).constData());
    QVERIFY2(
        readOnly.err.contains(QStringLiteral("marked read-only: taking a lock is refused there even with "
                                             "--yes")),
        describe(readOnly).constData());
    QVERIFY2(!readOnly.err.contains(QStringLiteral("needs --yes")), describe(readOnly).constData());
    const RunResult readOnlyYes = acquire(true);
    QVERIFY2(readOnlyYes.exitCode == 2, describe(readOnlyYes).constData());
    QVERIFY2(readOnlyYes.err.contains(QStringLiteral("read-only")), describe(readOnlyYes).constData());
    QVERIFY2(!readOnlyYes.err.contains(QStringLiteral("--yes")), describe(readOnlyYes).constData());
    QVERIFY(!exists());
}

QTEST_GUILESS_MAIN(TestLockctl)
#include "tst_lockctl.moc"
