// lockctl config: the groups file shared with the app, driven through the real binary.

#include "lockctlrunner.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

namespace {

using lockscope::test::describe;
using lockscope::test::RunResult;

RunResult runLockctl(const QStringList &args, const QString &configPath)
{
    return lockscope::test::runLockctl(args, {{QStringLiteral("LOCKSCOPE_CONFIG"), configPath}});
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

const QByteArray kGroups =
    "{\"version\":1,\"groups\":["
    "  {\"name\":\"payments\",\"nodes\":[{\"url\":\"redis://ops:hunter2@10.0.0.5:6379\",\"production\":true},"
    "                              {\"url\":\"redis://10.0.0.6:6379\",\"read_only\":true},"
    "                              {\"url\":\"redis://10.0.0.7:6379\"}]},"
    "  {\"name\":\"local\",\"nodes\":[{\"url\":\"redis://127.0.0.1:7000\"}]}]}";

} // namespace

class TestLockctlConfig : public QObject
{
    Q_OBJECT

private slots:
    void pathFollowsTheEnvironment();
    void importListExport();
    void malformedImportChangesNothing();
    void importReplacesSameNamedGroups();
    void unknownAction();
    void groupSelectsNodes();
    void groupGuardsForceRelease();
    void configThatIsNotARegularFile();
    void importIsCapped();
    void importRefusesLoopbackAliases();
    void listsTenThousandNodes();
};

void TestLockctlConfig::pathFollowsTheEnvironment()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const RunResult r = runLockctl({QStringLiteral("config"), QStringLiteral("path")}, config);
    QVERIFY2(r.exitCode == 0, describe(r).constData());
    QCOMPARE(r.out.trimmed(), config);
    // A missing file is an empty configuration.
    const RunResult list = runLockctl({QStringLiteral("config"), QStringLiteral("list")}, config);
    QVERIFY2(list.exitCode == 0 && list.out.contains(QStringLiteral("no groups")),
             describe(list).constData());
}

void TestLockctlConfig::importListExport()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const QString source = dir.filePath(QStringLiteral("in.json"));
    QVERIFY(writeFile(source, kGroups));
    const RunResult imported =
        runLockctl({QStringLiteral("config"), QStringLiteral("import"), source}, config);
    QVERIFY2(imported.exitCode == 0, describe(imported).constData());
    QVERIFY2(imported.out.contains(QStringLiteral("imported 2 group(s)")), describe(imported).constData());
    QVERIFY2(imported.out.contains(QStringLiteral("passwords")), describe(imported).constData());
    QVERIFY(!readFile(config).contains("hunter2"));

    const RunResult list = runLockctl({QStringLiteral("config"), QStringLiteral("list")}, config);
    QVERIFY2(list.exitCode == 0, describe(list).constData());
    QVERIFY2(
        list.out.contains(QStringLiteral("payments")) && list.out.contains(QStringLiteral("redlock 2/3")) &&
            list.out.contains(QStringLiteral("read-only")) && list.out.contains(QStringLiteral("production")),
        describe(list).constData());
    QVERIFY(!list.out.contains(QStringLiteral("hunter2")));

    const RunResult exported = runLockctl({QStringLiteral("config"), QStringLiteral("export")}, config);
    QVERIFY2(exported.exitCode == 0, describe(exported).constData());
    const QJsonObject root = QJsonDocument::fromJson(exported.out.toUtf8()).object();
    QCOMPARE(root.value(QStringLiteral("version")).toInt(), 1);
    const QJsonArray groups = root.value(QStringLiteral("groups")).toArray();
    QCOMPARE(groups.size(), 2);
    QCOMPARE(groups[0].toObject().value(QStringLiteral("nodes")).toArray().size(), 3);
    QVERIFY(!exported.out.contains(QStringLiteral("hunter2")));
}

void TestLockctlConfig::malformedImportChangesNothing()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const QString good = dir.filePath(QStringLiteral("good.json"));
    QVERIFY(writeFile(good, kGroups));
    QVERIFY(runLockctl({QStringLiteral("config"), QStringLiteral("import"), good}, config).exitCode == 0);
    const QByteArray before = readFile(config);

    const QString bad = dir.filePath(QStringLiteral("bad.json"));
    QVERIFY(writeFile(bad,
                      "{\"version\":1,\"groups\":[{\"name\":\"x\",\"nodes\":[{\"url\":\"http://nope\"}]}]}"));
    const RunResult r = runLockctl({QStringLiteral("config"), QStringLiteral("import"), bad}, config);
    QVERIFY2(r.exitCode == 2, describe(r).constData());
    QVERIFY2(r.err.contains(QStringLiteral("bad.json")) && r.err.contains(QStringLiteral("\"x\"")) &&
                 r.err.contains(QStringLiteral("nothing imported")),
             describe(r).constData());
    QCOMPARE(readFile(config), before);

    const RunResult missing = runLockctl(
        {QStringLiteral("config"), QStringLiteral("import"), dir.filePath(QStringLiteral("none.json"))},
        config);
    QVERIFY2(missing.exitCode == 2, describe(missing).constData());
    QCOMPARE(readFile(config), before);
}

void TestLockctlConfig::importReplacesSameNamedGroups()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const QString first = dir.filePath(QStringLiteral("first.json"));
    const QString second = dir.filePath(QStringLiteral("second.json"));
    QVERIFY(writeFile(first, kGroups));
    QVERIFY(writeFile(second, "{\"version\":1,\"groups\":[{\"name\":\"local\",\"nodes\":[{\"url\":\"redis://"
                              "127.0.0.1:7100\"}]}]}"));
    QVERIFY(runLockctl({QStringLiteral("config"), QStringLiteral("import"), first}, config).exitCode == 0);
    const RunResult r = runLockctl({QStringLiteral("config"), QStringLiteral("import"), second}, config);
    QVERIFY2(r.exitCode == 0 && r.out.contains(QStringLiteral("replaced: local")), describe(r).constData());
    const QByteArray saved = readFile(config);
    QVERIFY(saved.contains("7100"));
    QVERIFY(!saved.contains("7000"));
    QVERIFY(saved.contains("payments"));
}

void TestLockctlConfig::unknownAction()
{
    QTemporaryDir dir;
    const RunResult r = runLockctl({QStringLiteral("config"), QStringLiteral("frobnicate")},
                                   dir.filePath(QStringLiteral("g.json")));
    QVERIFY2(r.exitCode == 2 && r.err.contains(QStringLiteral("frobnicate")), describe(r).constData());
}

namespace {

QByteArray groupJson(const QString &name, const QList<std::tuple<quint16, bool, bool>> &nodes)
{
    QJsonArray array;
    for (const auto &[port, readOnly, production] : nodes)
        array.append(QJsonObject{{QStringLiteral("url"), QStringLiteral("redis://127.0.0.1:%1").arg(port)},
                                 {QStringLiteral("read_only"), readOnly},
                                 {QStringLiteral("production"), production}});
    const QJsonObject root{
        {QStringLiteral("version"), 1},
        {QStringLiteral("groups"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("nodes"), array}}}}};
    return QJsonDocument(root).toJson();
}

QByteArray getKey(const lockscope::redis::LocalRedisServer &server, const char *key)
{
    lockscope::redis::Connection connection(server.nodeConfig());
    auto reply = connection.command({"GET", key});
    return reply ? reply->bytes() : QByteArray("<error>");
}

bool setKey(const lockscope::redis::LocalRedisServer &server, const char *key, const char *value)
{
    lockscope::redis::Connection connection(server.nodeConfig());
    return connection.command({"SET", key, value, "PX", "60000"}).has_value();
}

} // namespace

void TestLockctlConfig::groupSelectsNodes()
{
    LS_START_SERVER(a, lockscope::test::ServerKind::Plain);
    LS_START_SERVER(b, lockscope::test::ServerKind::Plain);
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(writeFile(
        config, groupJson(QStringLiteral("pair"), {{a->port(), false, false}, {b->port(), false, false}})));
    QVERIFY(setKey(*a, "lock:g", "11111111111111111111111111111111"));
    QVERIFY(setKey(*b, "lock:g", "11111111111111111111111111111111"));

    const RunResult list = runLockctl(
        {QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("pair"), QStringLiteral("--json")},
        config);
    QVERIFY2(list.exitCode == 0, describe(list).constData());
    const QJsonArray records = QJsonDocument::fromJson(list.out.toUtf8()).array();
    QCOMPARE(records.size(), 1);
    QCOMPARE(records[0].toObject().value(QStringLiteral("held")).toInt(), 2);
    QCOMPARE(records[0].toObject().value(QStringLiteral("of")).toInt(), 2);

    const RunResult unknown =
        runLockctl({QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("nope")}, config);
    QVERIFY2(unknown.exitCode == 2 && unknown.err.contains(QStringLiteral("nope")) &&
                 unknown.err.contains(QStringLiteral("pair")),
             describe(unknown).constData());
    const RunResult both =
        runLockctl({QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("pair"),
                    QStringLiteral("--nodes"), QStringLiteral("redis://127.0.0.1:1")},
                   config);
    QVERIFY2(both.exitCode == 2 && both.err.contains(QStringLiteral("not both")), describe(both).constData());
}

void TestLockctlConfig::groupGuardsForceRelease()
{
    LS_START_SERVER(a, lockscope::test::ServerKind::Plain);
    LS_START_SERVER(b, lockscope::test::ServerKind::Plain);
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
    const char value[] = "22222222222222222222222222222222";
    QVERIFY(setKey(*a, "lock:p", value));
    QVERIFY(setKey(*b, "lock:p", value));

    // A production node: --yes is not enough, and without a terminal nothing is deleted.
    QVERIFY(writeFile(
        config, groupJson(QStringLiteral("prod"), {{a->port(), false, true}, {b->port(), false, false}})));
    const RunResult prod =
        runLockctl({QStringLiteral("force-release"), QStringLiteral("lock:p"), QStringLiteral("--group"),
                    QStringLiteral("prod"), QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
                   config);
    QVERIFY2(prod.exitCode == 2, describe(prod).constData());
    QCOMPARE(getKey(*a, "lock:p"), QByteArray(value));
    QCOMPARE(getKey(*b, "lock:p"), QByteArray(value));

    // A read-only node is never written; the other one is released.
    QVERIFY(writeFile(
        config, groupJson(QStringLiteral("guarded"), {{a->port(), true, false}, {b->port(), false, false}})));
    const RunResult guarded =
        runLockctl({QStringLiteral("force-release"), QStringLiteral("lock:p"), QStringLiteral("--group"),
                    QStringLiteral("guarded"), QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
                   config);
    QVERIFY2(guarded.exitCode != 0, describe(guarded).constData());
    QCOMPARE(getKey(*a, "lock:p"), QByteArray(value));
    QCOMPARE(getKey(*b, "lock:p"), QByteArray());
    QFile log(audit);
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QByteArray lines = log.readAll();
    QVERIFY2(lines.contains("\"group\":\"guarded\"") && lines.contains("read-only"), lines.constData());
}

void TestLockctlConfig::configThatIsNotARegularFile()
{
    // A FIFO once made every command wait forever, and /dev/zero ran out of memory.
    QTemporaryDir dir;
    const QString fifo = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    const QString directory = dir.filePath(QStringLiteral("dir.json"));
    QVERIFY(QDir().mkdir(directory));
    const RunResult viaEnvironment = runLockctl({QStringLiteral("config"), QStringLiteral("list")}, fifo);
    QVERIFY2(viaEnvironment.exitCode == 2 && viaEnvironment.err.contains(fifo) &&
                 viaEnvironment.err.contains(QStringLiteral("not a regular file")),
             describe(viaEnvironment).constData());
    for (const QString &path : {fifo, QStringLiteral("/dev/zero"), directory}) {
        const RunResult r =
            runLockctl({QStringLiteral("config"), QStringLiteral("list"), QStringLiteral("--config"), path},
                       dir.filePath(QStringLiteral("unused.json")));
        QVERIFY2(r.exitCode == 2 && r.err.contains(path) &&
                     r.err.contains(QStringLiteral("not a regular file")),
                 describe(r).constData());
    }
    // --group reads the same file.
    const RunResult group =
        runLockctl({QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("g")}, fifo);
    QVERIFY2(group.exitCode == 2 && group.err.contains(QStringLiteral("not a regular file")),
             describe(group).constData());
}

void TestLockctlConfig::importIsCapped()
{
    // import reads what it is given (a pipe is fine), but no more than a groups file may hold.
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const RunResult r =
        runLockctl({QStringLiteral("config"), QStringLiteral("import"), QStringLiteral("/dev/zero")}, config);
    QVERIFY2(r.exitCode == 2 && r.err.contains(QStringLiteral("/dev/zero")) &&
                 r.err.contains(QStringLiteral("16 MiB")) &&
                 r.err.contains(QStringLiteral("nothing imported")),
             describe(r).constData());
    QVERIFY(!QFile::exists(config));
}

void TestLockctlConfig::importRefusesLoopbackAliases()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    const QString source = dir.filePath(QStringLiteral("in.json"));
    const QByteArray twice = R"({"version":1,"groups":[{"name":"pair","nodes":[
        {"url":"redis://localhost:7000"},{"url":"redis://127.0.0.1:7000"}]}]})";
    QVERIFY(writeFile(source, twice));
    const RunResult r = runLockctl({QStringLiteral("config"), QStringLiteral("import"), source}, config);
    QVERIFY2(r.exitCode == 2 && r.err.contains(QStringLiteral("localhost:7000")) &&
                 r.err.contains(QStringLiteral("127.0.0.1:7000")) &&
                 r.err.contains(QStringLiteral("nothing imported")),
             describe(r).constData());
    QVERIFY(!QFile::exists(config));
}

void TestLockctlConfig::listsTenThousandNodes()
{
    // 100 groups x 100 nodes, all on distinct host:port/db: every node is listed once.
    QJsonArray groups;
    for (int g = 0; g < 100; ++g) {
        QJsonArray nodes;
        for (int n = 0; n < 100; ++n)
            nodes.append(QJsonObject{
                {QStringLiteral("url"),
                 QStringLiteral("redis://node-%1.example.com:%2/%3").arg(n).arg(7000 + g).arg(n % 16)}});
        groups.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("group-%1").arg(g)},
                                  {QStringLiteral("nodes"), nodes}});
    }
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("groups.json"));
    QVERIFY(writeFile(
        config, QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("groups"), groups}})
                    .toJson(QJsonDocument::Compact)));

    const RunResult list = runLockctl({QStringLiteral("config"), QStringLiteral("list")}, config);
    QVERIFY2(list.exitCode == 0, describe(list).constData());
    QCOMPARE(list.out.count(QStringLiteral("redis://node-")), 10'000);
    QCOMPARE(list.out.count(QStringLiteral("redlock 51/100")), 100);
    QVERIFY(list.out.contains(QStringLiteral("redis://node-99.example.com:7099/3")));

    const RunResult json =
        runLockctl({QStringLiteral("config"), QStringLiteral("list"), QStringLiteral("--json")}, config);
    QVERIFY2(json.exitCode == 0, describe(json).constData());
    const QJsonArray listed = QJsonDocument::fromJson(json.out.toUtf8()).object()[u"groups"].toArray();
    QCOMPARE(listed.size(), 100);
    int total = 0;
    for (const QJsonValue group : listed)
        total += int(group.toObject()[u"nodes"].toArray().size());
    QCOMPARE(total, 10'000);
}

QTEST_GUILESS_MAIN(TestLockctlConfig)
#include "tst_lockctl_config.moc"
