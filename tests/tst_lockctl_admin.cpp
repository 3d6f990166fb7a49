// lockctl force-release end to end: the built CLI against three real redis-server nodes, checked
// with plain connections and by reading the audit log it wrote.

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockctlrunner.h"
#include "lockfixture.h"
#include "redis/connection.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <vector>

using namespace lockscope;
using lockscope::test::ServerSet;

namespace {

/// Options for a 30 s lock.
lock::AcquireOptions held30s(const QString &label = {})
{
    lock::AcquireOptions options;
    options.ttl = std::chrono::seconds(30);
    options.label = label;
    return options;
}

using lockscope::test::describe;
using lockscope::test::RunResult;

/// The data directory in `dataHome`, so the default audit log never lands in the user's home.
RunResult runLockctl(const QStringList &args, const QString &dataHome)
{
    return lockscope::test::runLockctl(args, {{QStringLiteral("XDG_DATA_HOME"), dataHome}});
}

std::vector<QJsonObject> auditLines(const QString &path)
{
    std::vector<QJsonObject> lines;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return lines;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (!line.isEmpty())
            lines.push_back(QJsonDocument::fromJson(line).object());
    }
    return lines;
}

/// The node URLs with the fixture's node names, comma-separated.
QString nodeUrls(ServerSet &set)
{
    QStringList urls;
    for (int i = 0; i < set.size(); ++i)
        urls << set.server(i).url() + QStringLiteral("?name=") + ServerSet::nodeName(i);
    return urls.join(QLatin1Char(','));
}

} // namespace

class TestLockctlAdmin : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY2(QFile::exists(QStringLiteral(LOCKCTL_PATH)), LOCKCTL_PATH); }

    void forceReleaseOnePermit()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        lock::Locker locker(set->configs());
        lock::AcquireOptions permit = held30s();
        permit.kind = lock::LockKind::Semaphore;
        permit.permits = 2;
        auto a = locker.tryAcquire("cli:pool", permit);
        auto b = locker.tryAcquire("cli:pool", permit);
        LS_VERIFY_OK(a);
        LS_VERIFY_OK(b);
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const QStringList base{QStringLiteral("force-release"),
                               QStringLiteral("cli:pool"),
                               QStringLiteral("--nodes"),
                               nodeUrls(*set),
                               QStringLiteral("--yes"),
                               QStringLiteral("--audit-log"),
                               audit};
        const RunResult result = runLockctl(
            base + QStringList{QStringLiteral("--holder"), QString::fromUtf8(a->token)}, dir.path());
        QVERIFY2(result.exitCode == 0, describe(result));
        for (int i = 0; i < 3; ++i) {
            const auto members = set->admin(i).command({"ZRANGE", "cli:pool", "0", "-1"});
            LS_VERIFY_OK(members);
            QCOMPARE(members->elements().size(), std::size_t(1));
            QVERIFY(members->elements()[0].bytes().startsWith(lock::LockValue::ownerPrefix(b->token)));
        }
        const auto lines = auditLines(audit);
        QCOMPARE(lines.size(), std::size_t(3));
        QCOMPARE(lines[0].value(QStringLiteral("action")).toString(), QStringLiteral("force-release-holder"));
        // The freed permit can be taken again; --holder with --unconditional is a usage error.
        LS_VERIFY_OK(locker.tryAcquire("cli:pool", permit));
        const RunResult bad =
            runLockctl(base + QStringList{QStringLiteral("--holder"), QString::fromUtf8(b->token),
                                          QStringLiteral("--unconditional")},
                       dir.path());
        QVERIFY2(bad.exitCode == 2, describe(bad));
        QCOMPARE(set->admin(0).command({"ZCARD", "cli:pool"})->integer(), 2);
    }

    void forceReleaseWithYes()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        lock::Locker locker(set->configs());
        const QByteArray key = "cli:yes";
        auto held = locker.tryAcquire(key, held30s(QStringLiteral("report")));
        LS_VERIFY_OK(held);
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const RunResult result =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
                       dir.path());
        QVERIFY2(result.exitCode == 0, describe(result));
        QVERIFY2(result.out.contains(QString::fromUtf8(held->token)), describe(result)); // owner shown
        QVERIFY2(result.out.contains(QLatin1String("label \"report\"")), describe(result));
        for (int i = 0; i < 3; ++i) {
            QVERIFY(set->get(i, key).isNull());
            QCOMPARE(set->get(i, lock::fenceKeyFor(key)), QByteArray("2"));
        }
        const auto lines = auditLines(audit);
        QCOMPARE(lines.size(), std::size_t(3));
        for (const QJsonObject &line : lines) {
            QCOMPARE(line.value(QStringLiteral("action")).toString(), QStringLiteral("force-release"));
            QCOMPARE(line.value(QStringLiteral("result")).toString(), QStringLiteral("ok"));
            QCOMPARE(line.value(QStringLiteral("value_before")).toString(), QString::fromUtf8(held->value));
        }

        // Again: nothing left to release.
        const RunResult again =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
                       dir.path());
        QVERIFY2(again.exitCode == 4, describe(again));
    }

    void expectValueMismatchIsChanged()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        lock::Locker locker(set->configs());
        const QByteArray key = "cli:expect";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const RunResult result =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--expect-value"),
                        QStringLiteral("ls1 tok=stale fence=1"), QStringLiteral("--audit-log"), audit,
                        QStringLiteral("--json")},
                       dir.path());
        QVERIFY2(result.exitCode == 5, describe(result));
        QVERIFY2(result.err.contains(QLatin1String("changed")), describe(result));
        const QJsonObject json = QJsonDocument::fromJson(result.out.toUtf8()).object();
        QCOMPARE(json.value(QStringLiteral("exit_code")).toInt(), 5);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(set->get(i, key), held->value);
            QCOMPARE(set->get(i, lock::fenceKeyFor(key)), QByteArray("1"));
        }
        // Audited all the same: one line per node, the value that was there, "changed".
        const auto changed = auditLines(audit);
        QCOMPARE(changed.size(), std::size_t(3));
        for (const QJsonObject &line : changed) {
            QCOMPARE(line.value(QStringLiteral("action")).toString(), QStringLiteral("force-release"));
            QVERIFY(line.value(QStringLiteral("result")).toString().startsWith(QLatin1String("changed")));
            QCOMPARE(line.value(QStringLiteral("value_before")).toString(), QString::fromUtf8(held->value));
        }

        // With the right value: released.
        const RunResult right =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--expect-value"),
                        QString::fromUtf8(held->value), QStringLiteral("--audit-log"), audit},
                       dir.path());
        QVERIFY2(right.exitCode == 0, describe(right));
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->get(i, key).isNull());
    }

    void withoutYesOnNonTerminalRefuses()
    {
        LS_START_SERVERS(set, 3);
        QTemporaryDir dir;
        lock::Locker locker(set->configs());
        const QByteArray key = "cli:noyes";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const RunResult result =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--audit-log"), audit},
                       dir.path());
        QVERIFY2(result.exitCode == 2, describe(result));
        QVERIFY2(result.err.contains(QLatin1String("--yes")), describe(result));
        QVERIFY2(result.out.contains(QLatin1String("Would release")), describe(result)); // the preview
        for (int i = 0; i < 3; ++i)
            QCOMPARE(set->get(i, key), held->value);
        // Nothing was sent, but the attempt is audited, as refused (the README's promise).
        const auto lines = auditLines(audit);
        QCOMPARE(lines.size(), std::size_t(3));
        for (const QJsonObject &line : lines)
            QCOMPARE(line.value(QStringLiteral("result")).toString(),
                     QStringLiteral("refused: not confirmed (stdin is not a terminal)"));
    }

    void readOnlyNodeIsRefused()
    {
        LS_START_SERVERS(set, 2);
        QTemporaryDir dir;
        lock::Locker locker(set->configs());
        const QByteArray key = "cli:ro";
        auto held = locker.tryAcquire(key, held30s());
        LS_VERIFY_OK(held);
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));
        const RunResult result =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--read-only-nodes"),
                        ServerSet::nodeName(1), QStringLiteral("--audit-log"), audit},
                       dir.path());
        QVERIFY2(result.exitCode == 2, describe(result));
        QVERIFY(set->get(0, key).isNull());
        QCOMPARE(set->get(1, key), held->value);
        QCOMPARE(set->get(1, lock::fenceKeyFor(key)), QByteArray("1"));
        const auto lines = auditLines(audit);
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(lines[1].value(QStringLiteral("result")).toString(), QStringLiteral("refused: read-only"));
    }

    void redissonLockWakesWaiters()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        const QByteArray key = "cli:redisson";
        const QByteArray field = "8f4e2b1c-3d6a-4e8f-9b2c-1a2b3c4d5e6f:57";
        LS_VERIFY_OK(set->admin(0).command({"HSET", key, field, "1"}));
        LS_VERIFY_OK(set->admin(0).command({"PEXPIRE", key, "30000"}));
        redis::NodeConfig subscriberConfig = set->configs()[0];
        subscriberConfig.name = QStringLiteral("subscriber");
        redis::Connection subscriber(subscriberConfig);
        const QByteArray channel = "redisson_lock__channel:{" + key + "}";
        subscriber.append({"SUBSCRIBE", channel});
        LS_VERIFY_OK(subscriber.flush());
        LS_VERIFY_OK(subscriber.readReply());

        const RunResult result =
            runLockctl({QStringLiteral("force-release"), QString::fromUtf8(key), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--json"),
                        QStringLiteral("--audit-log"), dir.filePath(QStringLiteral("audit.jsonl"))},
                       dir.path());
        QVERIFY2(result.exitCode == 0, describe(result));
        const QJsonObject json = QJsonDocument::fromJson(result.out.toUtf8()).object();
        QCOMPARE(json.value(QStringLiteral("schema")).toString(), QStringLiteral("redisson-rlock"));
        QCOMPARE(set->admin(0).command({"EXISTS", key})->integer(), 0);
        auto message = subscriber.readPush(std::chrono::seconds(10));
        LS_VERIFY_OK(message);
        QVERIFY2(message->has_value(), "no unlock message published");
        QCOMPARE((*message)->elements().at(1).bytes(), channel);
    }

    /// On a terminal (util-linux `script` provides one), the typed key confirms; anything else
    /// deletes nothing.
    void typedKeyConfirms()
    {
        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("util-linux 'script' is not installed: no pseudo-terminal for the prompt");
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        const QByteArray key = "cli:typed";
        QVERIFY(set->set(0, key, "v1", 30000));
        const auto run = [&](const QByteArray &typed) {
            const QString commandLine =
                QStringLiteral("'%1' force-release '%2' --nodes '%3' --audit-log '%4'")
                    .arg(QStringLiteral(LOCKCTL_PATH), QString::fromUtf8(key), nodeUrls(*set),
                         dir.filePath(QStringLiteral("audit.jsonl")));
            QProcess process;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("XDG_DATA_HOME"), dir.path());
            process.setProcessEnvironment(env);
            process.start(script, {QStringLiteral("-qec"), commandLine, QStringLiteral("/dev/null")});
            if (!process.waitForStarted(10000))
                return RunResult{-1, {}, process.errorString()};
            process.write(typed + '\n');
            process.closeWriteChannel();
            if (!process.waitForFinished(30000)) {
                process.kill();
                process.waitForFinished();
            }
            return RunResult{process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
                             QString::fromUtf8(process.readAllStandardOutput()),
                             QString::fromUtf8(process.readAllStandardError())};
        };

        const RunResult wrong = run("cli:typo");
        QVERIFY2(wrong.exitCode == 2, describe(wrong));
        QVERIFY2(wrong.out.contains(QLatin1String("Type the key to confirm:")), describe(wrong));
        QCOMPARE(set->get(0, key), QByteArray("v1"));
        // The mistyped confirmation is audited, as refused.
        const auto refused = auditLines(dir.filePath(QStringLiteral("audit.jsonl")));
        QCOMPARE(refused.size(), std::size_t(1));
        QCOMPARE(refused[0].value(QStringLiteral("result")).toString(),
                 QStringLiteral("refused: not confirmed (the typed text was not the key)"));

        const RunResult right = run(key);
        QVERIFY2(right.exitCode == 0, describe(right));
        QVERIFY(set->get(0, key).isNull());
    }

    // Keys are bytes: a key that is not UTF-8 is named in its displayed form (\xNN) and exactly
    // that key is released; a key that arrives with U+FFFD (what a terminal's bytes become when
    // they are not UTF-8) is refused instead of acting on another key.
    void binaryKeyByItsEscapedForm()
    {
        LS_START_SERVERS(set, 1);
        QTemporaryDir dir;
        const QByteArray binary("mix2:\xffkey");
        const QByteArray replacement("mix2:\xef\xbf\xbdkey"); // the lossy form of the same argument
        QVERIFY(set->set(0, binary, "ls1 tok=tokbinary fence=1", 60000));
        QVERIFY(set->set(0, replacement, "ls1 tok=tokother fence=1", 60000));
        const QString audit = dir.filePath(QStringLiteral("audit.jsonl"));

        const RunResult lossy = runLockctl({QStringLiteral("force-release"), QStringLiteral("mix2:\uFFFDkey"),
                                            QStringLiteral("--nodes"), nodeUrls(*set),
                                            QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
                                           dir.path());
        QVERIFY2(lossy.exitCode == 2, describe(lossy));
        QVERIFY2(lossy.err.contains(QStringLiteral("\\xNN")), describe(lossy));
        QCOMPARE(set->get(0, binary), QByteArray("ls1 tok=tokbinary fence=1"));
        QCOMPARE(set->get(0, replacement), QByteArray("ls1 tok=tokother fence=1"));
        QVERIFY(!QFile::exists(audit));

        const RunResult shown =
            runLockctl({QStringLiteral("show"), QStringLiteral("mix2:\\xffkey"), QStringLiteral("--nodes"),
                        nodeUrls(*set), QStringLiteral("--json")},
                       dir.path());
        QVERIFY2(shown.exitCode == 0, describe(shown));
        const QJsonObject json = QJsonDocument::fromJson(shown.out.toUtf8()).object();
        QCOMPARE(json.value(QStringLiteral("key")).toString(), QStringLiteral("mix2:\\xffkey"));
        QCOMPARE(QByteArray::fromBase64(json.value(QStringLiteral("key_base64")).toString().toLatin1()),
                 binary);

        const RunResult released = runLockctl(
            {QStringLiteral("force-release"), QStringLiteral("mix2:\\xffkey"), QStringLiteral("--nodes"),
             nodeUrls(*set), QStringLiteral("--yes"), QStringLiteral("--audit-log"), audit},
            dir.path());
        QVERIFY2(released.exitCode == 0, describe(released));
        QVERIFY(set->get(0, binary).isNull());
        QCOMPARE(set->get(0, replacement), QByteArray("ls1 tok=tokother fence=1")); // the other key stays
        const auto lines = auditLines(audit);
        QCOMPARE(lines.size(), std::size_t(1));
        QCOMPARE(QByteArray::fromBase64(lines[0].value(QStringLiteral("key_base64")).toString().toLatin1()),
                 binary);
    }

    void usageErrors()
    {
        QTemporaryDir dir;
        QCOMPARE(runLockctl({QStringLiteral("force-release"), QStringLiteral("--nodes"),
                             QStringLiteral("redis://127.0.0.1:1")},
                            dir.path())
                     .exitCode,
                 2);
        const RunResult help =
            runLockctl({QStringLiteral("help"), QStringLiteral("force-release")}, dir.path());
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains(QLatin1String("--expect-value")));
    }
};

QTEST_GUILESS_MAIN(TestLockctlAdmin)
#include "tst_lockctl_admin.moc"
