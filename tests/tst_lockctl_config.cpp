// lockctl config: the groups file shared with the app, driven through the real binary.

#include "lockctlrunner.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

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

QTEST_GUILESS_MAIN(TestLockctlConfig)
#include "tst_lockctl_config.moc"
