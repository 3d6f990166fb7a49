// lockctl acquire / extend / release / ttl and bench lock, end to end: the built CLI against real
// redis-server nodes (one node and a 3-node Redlock set), checked with plain connections.

#include "lock/lockvalue.h"
#include "lockctlrunner.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

using namespace lockscope;
using lockscope::test::ServerKind;

namespace {

using lockscope::test::describe;
using lockscope::test::RunResult;

/// With `nodesEnv`, LOCKSCOPE_NODES is set to it (otherwise lockctl sees none).
RunResult runLockctl(const QStringList &args, const QString &nodesEnv = {}, int timeoutMs = 30000)
{
    if (nodesEnv.isEmpty())
        return lockscope::test::runLockctl(args, {}, timeoutMs);
    return lockscope::test::runLockctl(args, {{QStringLiteral("LOCKSCOPE_NODES"), nodesEnv}}, timeoutMs);
}

QJsonObject parseObject(const RunResult &result, bool &ok)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(result.out.toUtf8(), &error);
    ok = error.error == QJsonParseError::NoError && document.isObject();
    return document.object();
}

/// The value of a "name  value" line of the human output.
QString field(const QString &output, const QString &name)
{
    const QRegularExpression pattern(QStringLiteral("^%1 +(.+)$").arg(QRegularExpression::escape(name)),
                                     QRegularExpression::MultilineOption);
    return pattern.match(output).captured(1).trimmed();
}

/// A key of its own for every test function and data row.
QString testKey()
{
    QString key = QStringLiteral("lockctl-test:%1").arg(QLatin1String(QTest::currentTestFunction()));
    if (const char *tag = QTest::currentDataTag())
        key += QLatin1Char(':') + QString::fromLatin1(tag).replace(QLatin1Char(' '), QLatin1Char('-'));
    return key;
}

} // namespace

class TestLockctlLock : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void acquirePrintsTokenAndFence_data();
    void acquirePrintsTokenAndFence();
    void acquireJson_data();
    void acquireJson();
    void secondAcquireIsHeld_data();
    void secondAcquireIsHeld();
    void releaseWithWrongTokenKeepsKey_data();
    void releaseWithWrongTokenKeepsKey();
    void releaseWithRightTokenDeletes_data();
    void releaseWithRightTokenDeletes();
    void extendAddRaisesPttl_data();
    void extendAddRaisesPttl();
    void ttlWithToken_data();
    void ttlWithToken();
    void ttlWithoutTokenDecodesOwner();
    void ttlWithoutTokenJson();
    void ttlOfAbsentKey();
    void waitAcquiresAfterExpiry();
    void fenceIncreases();
    void redlockJsonHasThreeVotes();
    void redlockMinorityHeldStillAcquires();
    void redlockMajorityHeldIsHeld();
    void acquireReadWriteAndSemaphore();
    void acquireKindUsageErrors();
    void acquireReentrantAndFair();
    void multiKeyAcquireReleaseTtl();
    void acquireWithOwnToken();
    void acquireWithoutFencing();
    void downNodeIsError();
    void acquireDeniedByAclIsPermission();
    void acquireOnReplicaIsReadOnlyReplica();
    void acquireAtMaxmemoryIsOutOfMemory();
    void acquireOfListKeyIsWrongType();
    void ttlOfNonStringKeyIsNotALock();
    void ttlWithoutTokenListsReadersAndPermits();
    void duplicatedTokenFieldIsNotDecoded();
    void malformedUrlIsUsageError();
    void nodeListedTwiceIsUsageError();
    void durationWithoutUnitIsUsageError();
    void missingNodesIsUsageError();
    void nodesFromEnvironment();
    void missingTtlAndTokenAreUsageErrors();
    void helpListsExitCodes();
    void benchJson();
    void benchLockTable();

private:
    /// The URL list of the first `count` servers, comma-separated.
    QString nodes(int count) const;
    /// Runs `lockctl acquire KEY --ttl ... --json` and returns the token ("" on failure).
    QString acquireToken(const QString &key, const QString &nodeList,
                         const QString &ttl = QStringLiteral("30s"));
    redis::Connection &admin(int index) { return *m_admin[static_cast<size_t>(index)]; }

    std::vector<std::unique_ptr<redis::LocalRedisServer>> m_servers;
    std::vector<std::unique_ptr<redis::Connection>> m_admin;
};

void TestLockctlLock::initTestCase()
{
    QVERIFY2(QFile::exists(QStringLiteral(LOCKCTL_PATH)), LOCKCTL_PATH);
    for (int i = 0; i < 3; ++i) {
        auto server = test::startServer(ServerKind::Plain);
        QVERIFY2(server.has_value(), test::describe(server).constData());
        QVERIFY((*server)->port() != 6379);
        auto connection = std::make_unique<redis::Connection>((*server)->nodeConfig());
        LS_VERIFY_OK(connection->connect());
        m_servers.push_back(std::move(*server));
        m_admin.push_back(std::move(connection));
    }
}

void TestLockctlLock::cleanupTestCase()
{
    m_admin.clear();
    m_servers.clear();
}

QString TestLockctlLock::nodes(int count) const
{
    QStringList urls;
    for (int i = 0; i < count; ++i)
        urls << m_servers[static_cast<size_t>(i)]->url();
    return urls.join(QLatin1Char(','));
}

QString TestLockctlLock::acquireToken(const QString &key, const QString &nodeList, const QString &ttl)
{
    const RunResult result = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), ttl,
                                         QStringLiteral("--nodes"), nodeList, QStringLiteral("--json")});
    if (result.exitCode != 0)
        return {};
    bool ok = false;
    return parseObject(result, ok).value(QStringLiteral("token")).toString();
}

static void nodeCountData()
{
    QTest::addColumn<int>("count");
    QTest::newRow("1 node") << 1;
    QTest::newRow("3 nodes") << 3;
}

void TestLockctlLock::acquirePrintsTokenAndFence_data()
{
    nodeCountData();
}

void TestLockctlLock::acquirePrintsTokenAndFence()
{
    QFETCH(int, count);
    const QString key = testKey();
    const RunResult result = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                         QStringLiteral("30s"), QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY2(result.err.isEmpty(), describe(result).constData());
    const QString token = field(result.out, QStringLiteral("token"));
    QVERIFY2(token.size() == 22, describe(result).constData()); // 16 random bytes, base64url
    bool fenceOk = false;
    QVERIFY2(field(result.out, QStringLiteral("fence")).toLongLong(&fenceOk) >= 1 && fenceOk,
             describe(result).constData());
    QVERIFY2(field(result.out, QStringLiteral("validity")).endsWith(QStringLiteral(" ms")),
             describe(result).constData());
    QVERIFY2(field(result.out, QStringLiteral("nodes"))
                 .startsWith(QStringLiteral("%1 of %1 granted (quorum %2)").arg(count).arg(count / 2 + 1)),
             describe(result).constData());
    for (int i = 0; i < count; ++i) {
        auto value = admin(i).command({QByteArrayView("GET"), key.toUtf8()});
        LS_VERIFY_OK(value);
        QVERIFY(value->bytes().startsWith(lock::LockValue::ownerPrefix(token.toUtf8())));
    }
}

void TestLockctlLock::acquireJson_data()
{
    nodeCountData();
}

void TestLockctlLock::acquireJson()
{
    QFETCH(int, count);
    const QString key = testKey();
    const RunResult result =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("20s"),
                    QStringLiteral("--nodes"), nodes(count), QStringLiteral("--label"),
                    QStringLiteral("nightly report"), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY2(ok, describe(result).constData());
    QCOMPARE(object.value(QStringLiteral("key")).toString(), key);
    QCOMPARE(object.value(QStringLiteral("token")).toString().size(), 22);
    QVERIFY(object.value(QStringLiteral("fence")).toInteger() >= 1);
    QCOMPARE(object.value(QStringLiteral("ttl_ms")).toInteger(), 20000);
    const qint64 validity = object.value(QStringLiteral("validity_ms")).toInteger();
    QVERIFY2(validity > 15000 && validity < 20000, describe(result).constData());
    const QJsonArray votes = object.value(QStringLiteral("nodes")).toArray();
    QCOMPARE(votes.size(), count);
    for (const QJsonValue &vote : votes) {
        QCOMPARE(vote[QStringLiteral("outcome")].toString(), QStringLiteral("granted"));
        QVERIFY(vote[QStringLiteral("fence")].toInteger() >= 1);
        QVERIFY(vote[QStringLiteral("error")].isNull());
    }
    const auto decoded = lock::LockValue::parse(object.value(QStringLiteral("value")).toString().toUtf8());
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->label, QStringLiteral("nightly report"));
}

void TestLockctlLock::secondAcquireIsHeld_data()
{
    nodeCountData();
}

void TestLockctlLock::secondAcquireIsHeld()
{
    QFETCH(int, count);
    const QString key = testKey();
    QVERIFY(!acquireToken(key, nodes(count)).isEmpty());

    const RunResult human = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                        QStringLiteral("30s"), QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(human.exitCode == 3, describe(human).constData());
    QVERIFY2(human.out.isEmpty(), describe(human).constData());
    QCOMPARE(human.errLines().size(), 1);
    QVERIFY2(human.err.contains(key) && human.err.contains(QStringLiteral("not obtained")) &&
                 human.err.contains(QStringLiteral("held by another owner")),
             describe(human).constData());

    const RunResult json =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("30s"),
                    QStringLiteral("--nodes"), nodes(count), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 3, describe(json).constData());
    bool ok = false;
    const QJsonObject object = parseObject(json, ok);
    QVERIFY2(ok, describe(json).constData());
    QCOMPARE(object.value(QStringLiteral("kind")).toString(), QStringLiteral("not_obtained"));
    QVERIFY(object.value(QStringLiteral("error")).toString().contains(key));
    const QJsonArray votes = object.value(QStringLiteral("votes")).toArray();
    QCOMPARE(votes.size(), count);
    for (const QJsonValue &vote : votes) {
        QCOMPARE(vote[QStringLiteral("outcome")].toString(), QStringLiteral("held"));
        QVERIFY(vote[QStringLiteral("pttl_ms")].toInteger() > 0);
    }
}

void TestLockctlLock::releaseWithWrongTokenKeepsKey_data()
{
    nodeCountData();
}

void TestLockctlLock::releaseWithWrongTokenKeepsKey()
{
    QFETCH(int, count);
    const QString key = testKey();
    QVERIFY(!acquireToken(key, nodes(count)).isEmpty());
    std::vector<QByteArray> before;
    for (int i = 0; i < count; ++i) {
        auto value = admin(i).command({QByteArrayView("GET"), key.toUtf8()});
        LS_VERIFY_OK(value);
        before.push_back(value->bytes());
    }

    const RunResult result =
        runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"),
                    QStringLiteral("not-the-owner"), QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(result.exitCode == 4, describe(result).constData());
    QCOMPARE(result.errLines().size(), 1);
    QVERIFY2(result.err.contains(key) && result.err.contains(QStringLiteral("not held")),
             describe(result).constData());

    for (int i = 0; i < count; ++i) {
        auto value = admin(i).command({QByteArrayView("GET"), key.toUtf8()});
        LS_VERIFY_OK(value);
        QCOMPARE(value->bytes(), before[static_cast<size_t>(i)]);
    }
}

void TestLockctlLock::releaseWithRightTokenDeletes_data()
{
    nodeCountData();
}

void TestLockctlLock::releaseWithRightTokenDeletes()
{
    QFETCH(int, count);
    const QString key = testKey();
    const QString token = acquireToken(key, nodes(count));
    QVERIFY(!token.isEmpty());

    const RunResult result = runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"), token,
                                         QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY2(result.out.contains(QStringLiteral("released")), describe(result).constData());
    for (int i = 0; i < count; ++i) {
        auto exists = admin(i).command({QByteArrayView("EXISTS"), key.toUtf8()});
        LS_VERIFY_OK(exists);
        QCOMPARE(exists->integer(), 0);
    }

    // Released twice: not held any more.
    const RunResult again = runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"), token,
                                        QStringLiteral("--nodes"), nodes(count), QStringLiteral("--json")});
    QVERIFY2(again.exitCode == 4, describe(again).constData());
    bool ok = false;
    QCOMPARE(parseObject(again, ok).value(QStringLiteral("kind")).toString(), QStringLiteral("not_held"));
    QVERIFY(ok);
}

void TestLockctlLock::extendAddRaisesPttl_data()
{
    nodeCountData();
}

void TestLockctlLock::extendAddRaisesPttl()
{
    QFETCH(int, count);
    const QString key = testKey();
    const QString token = acquireToken(key, nodes(count), QStringLiteral("5s"));
    QVERIFY(!token.isEmpty());

    const RunResult added =
        runLockctl({QStringLiteral("extend"), key, QStringLiteral("--token"), token, QStringLiteral("--ttl"),
                    QStringLiteral("20s"), QStringLiteral("--add"), QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(added.exitCode == 0, describe(added).constData());
    for (int i = 0; i < count; ++i) {
        auto pttl = admin(i).command({QByteArrayView("PTTL"), key.toUtf8()});
        LS_VERIFY_OK(pttl);
        QVERIFY2(pttl->integer() > 20000 && pttl->integer() <= 25000, QByteArray::number(pttl->integer()));
    }

    // Without --add the TTL is replaced.
    const RunResult replaced =
        runLockctl({QStringLiteral("extend"), key, QStringLiteral("--token"), token, QStringLiteral("--ttl"),
                    QStringLiteral("3s"), QStringLiteral("--nodes"), nodes(count), QStringLiteral("--json")});
    QVERIFY2(replaced.exitCode == 0, describe(replaced).constData());
    bool ok = false;
    const QJsonObject object = parseObject(replaced, ok);
    QVERIFY(ok);
    QCOMPARE(object.value(QStringLiteral("mode")).toString(), QStringLiteral("replace"));
    QCOMPARE(object.value(QStringLiteral("ttl_ms")).toInteger(), 3000);
    QCOMPARE(object.value(QStringLiteral("nodes")).toArray().size(), count);
    for (int i = 0; i < count; ++i) {
        auto pttl = admin(i).command({QByteArrayView("PTTL"), key.toUtf8()});
        LS_VERIFY_OK(pttl);
        QVERIFY2(pttl->integer() > 0 && pttl->integer() <= 3000, QByteArray::number(pttl->integer()));
    }

    // A wrong token changes nothing.
    const RunResult wrong =
        runLockctl({QStringLiteral("extend"), key, QStringLiteral("--token"), QStringLiteral("intruder"),
                    QStringLiteral("--ttl"), QStringLiteral("60s"), QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(wrong.exitCode == 4, describe(wrong).constData());
    auto pttl = admin(0).command({QByteArrayView("PTTL"), key.toUtf8()});
    LS_VERIFY_OK(pttl);
    QVERIFY(pttl->integer() <= 3000);
}

void TestLockctlLock::ttlWithToken_data()
{
    nodeCountData();
}

void TestLockctlLock::ttlWithToken()
{
    QFETCH(int, count);
    const QString key = testKey();
    const QString token = acquireToken(key, nodes(count), QStringLiteral("30s"));
    QVERIFY(!token.isEmpty());

    const RunResult human = runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--token"), token,
                                        QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(human.exitCode == 0, describe(human).constData());
    const QString ttlText = field(human.out, QStringLiteral("ttl"));
    QVERIFY2(ttlText.endsWith(QStringLiteral(" ms")), describe(human).constData());
    const qint64 ttl = ttlText.chopped(3).toLongLong();
    QVERIFY2(ttl > 20000 && ttl <= 30000, describe(human).constData());

    const RunResult json = runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--token"), token,
                                       QStringLiteral("--nodes"), nodes(count), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, describe(json).constData());
    bool ok = false;
    const qint64 ttlMs = parseObject(json, ok).value(QStringLiteral("ttl_ms")).toInteger();
    QVERIFY(ok);
    QVERIFY2(ttlMs > 20000 && ttlMs <= 30000, describe(json).constData());

    const RunResult wrong =
        runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--token"), QStringLiteral("somebody-else"),
                    QStringLiteral("--nodes"), nodes(count)});
    QVERIFY2(wrong.exitCode == 4, describe(wrong).constData());
}

void TestLockctlLock::ttlWithoutTokenDecodesOwner()
{
    const QString key = testKey();
    const RunResult acquired = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                           QStringLiteral("30s"), QStringLiteral("--label"),
                                           QStringLiteral("nightly"), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(acquired.exitCode == 0, describe(acquired).constData());
    const QString token = field(acquired.out, QStringLiteral("token"));
    const QString fence = field(acquired.out, QStringLiteral("fence"));

    const RunResult result = runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    const QStringList lines = result.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4); // header + 3 nodes
    QVERIFY(lines[0].contains(QStringLiteral("TOKEN")));
    for (int i = 1; i < 4; ++i) {
        QVERIFY2(lines[i].contains(token), qPrintable(lines[i]));
        QVERIFY2(lines[i].contains(QStringLiteral("nightly")), qPrintable(lines[i]));
        QVERIFY2(lines[i].contains(QStringLiteral(" ms")), qPrintable(lines[i]));
        QVERIFY2(lines[i].contains(QStringLiteral("lockctl")), qPrintable(lines[i])); // the thread name
        QVERIFY2(lines[i].contains(QRegularExpression(QStringLiteral("\\b%1\\b").arg(fence))),
                 qPrintable(lines[i]));
    }
}

void TestLockctlLock::ttlWithoutTokenJson()
{
    const QString key = testKey();
    const QString token = acquireToken(key, nodes(1));
    QVERIFY(!token.isEmpty());
    // A foreign value (another library's lock) on the second node: shown raw, not decoded.
    LS_VERIFY_OK(admin(1).command({QByteArrayView("SET"), key.toUtf8(), QByteArrayView("foreign-owner"),
                                   QByteArrayView("PX"), "60000"}));

    const RunResult result = runLockctl(
        {QStringLiteral("ttl"), key, QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData()); // present on 2 of 3 nodes
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY2(ok, describe(result).constData());
    QCOMPARE(object.value(QStringLiteral("held")).toBool(), true);
    QCOMPARE(object.value(QStringLiteral("fence_key")).toString(), QStringLiteral("{%1}.fence").arg(key));
    const QJsonArray nodeStates = object.value(QStringLiteral("nodes")).toArray();
    QCOMPARE(nodeStates.size(), 3);

    const QJsonObject ours = nodeStates[0].toObject();
    QCOMPARE(ours.value(QStringLiteral("exists")).toBool(), true);
    QCOMPARE(ours.value(QStringLiteral("lockscope")).toBool(), true);
    QVERIFY(ours.value(QStringLiteral("pttl_ms")).toInteger() > 0);
    const QJsonObject owner = ours.value(QStringLiteral("owner")).toObject();
    QCOMPARE(owner.value(QStringLiteral("token")).toString(), token);
    QCOMPARE(owner.value(QStringLiteral("thread")).toString(), QStringLiteral("lockctl"));
    QVERIFY(owner.value(QStringLiteral("pid")).toInteger() > 0);
    QVERIFY(owner.value(QStringLiteral("fence")).toInteger() >= 1);
    QCOMPARE(ours.value(QStringLiteral("fence_counter")).toInteger(),
             owner.value(QStringLiteral("fence")).toInteger());

    const QJsonObject foreign = nodeStates[1].toObject();
    QCOMPARE(foreign.value(QStringLiteral("lockscope")).toBool(), false);
    QVERIFY(foreign.value(QStringLiteral("owner")).isNull());
    QCOMPARE(foreign.value(QStringLiteral("value")).toString(), QStringLiteral("foreign-owner"));

    const QJsonObject absent = nodeStates[2].toObject();
    QCOMPARE(absent.value(QStringLiteral("exists")).toBool(), false);
    QVERIFY(absent.value(QStringLiteral("pttl_ms")).isNull());
}

void TestLockctlLock::ttlOfAbsentKey()
{
    const RunResult result =
        runLockctl({QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(result.exitCode == 4, describe(result).constData());
    QVERIFY2(result.out.contains(QStringLiteral("(no key)")), describe(result).constData());
}

void TestLockctlLock::waitAcquiresAfterExpiry()
{
    const QString key = testKey();
    QVERIFY(!acquireToken(key, nodes(1), QStringLiteral("600ms")).isEmpty());

    // A single try fails at once while it is held.
    const RunResult once = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                       QStringLiteral("5s"), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(once.exitCode == 3, describe(once).constData());

    const auto start = std::chrono::steady_clock::now();
    const RunResult waited =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("5s"),
                    QStringLiteral("--wait"), QStringLiteral("10s"), QStringLiteral("--nodes"), nodes(1)});
    const qint64 elapsed = test::elapsedMs(start);
    QVERIFY2(waited.exitCode == 0, describe(waited).constData());
    QVERIFY2(elapsed < 8000, QByteArray::number(elapsed));
    QVERIFY(!field(waited.out, QStringLiteral("token")).isEmpty());

    // Still held by the waiter: a short wait times out (exit 1, kind timeout, cause not obtained).
    const RunResult timedOut =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("5s"),
                    QStringLiteral("--wait"), QStringLiteral("200ms"), QStringLiteral("--nodes"), nodes(1),
                    QStringLiteral("--json")});
    QVERIFY2(timedOut.exitCode == 1, describe(timedOut).constData());
    bool ok = false;
    const QJsonObject object = parseObject(timedOut, ok);
    QVERIFY(ok);
    QCOMPARE(object.value(QStringLiteral("kind")).toString(), QStringLiteral("timeout"));
    QCOMPARE(object.value(QStringLiteral("last_cause")).toString(), QStringLiteral("not_obtained"));
    QVERIFY(object.value(QStringLiteral("attempts")).toInt() >= 2);
}

void TestLockctlLock::fenceIncreases()
{
    const QString key = testKey();
    qint64 previous = 0;
    for (int i = 0; i < 3; ++i) {
        const RunResult acquired =
            runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("10s"),
                        QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
        QVERIFY2(acquired.exitCode == 0, describe(acquired).constData());
        bool ok = false;
        const QJsonObject object = parseObject(acquired, ok);
        QVERIFY(ok);
        const qint64 fence = object.value(QStringLiteral("fence")).toInteger();
        QVERIFY2(fence > previous, describe(acquired).constData());
        previous = fence;
        const RunResult released = runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"),
                                               object.value(QStringLiteral("token")).toString(),
                                               QStringLiteral("--nodes"), nodes(3)});
        QVERIFY2(released.exitCode == 0, describe(released).constData());
    }
}

void TestLockctlLock::redlockJsonHasThreeVotes()
{
    const QString key = testKey();
    // Two --nodes options: a list and a single URL add up to the 3-node set.
    const RunResult result =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("10s"),
                    QStringLiteral("--nodes"), m_servers[0]->url() + QLatin1Char(',') + m_servers[1]->url(),
                    QStringLiteral("--nodes"), m_servers[2]->url(), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY(ok);
    QCOMPARE(object.value(QStringLiteral("quorum")).toInt(), 2);
    const QJsonArray votes = object.value(QStringLiteral("nodes")).toArray();
    QCOMPARE(votes.size(), 3);
    qint64 highest = 0;
    for (int i = 0; i < 3; ++i) {
        const QJsonObject vote = votes[i].toObject();
        QCOMPARE(vote.value(QStringLiteral("node")).toString(),
                 QStringLiteral("127.0.0.1:%1").arg(m_servers[static_cast<size_t>(i)]->port()));
        QCOMPARE(vote.value(QStringLiteral("outcome")).toString(), QStringLiteral("granted"));
        highest = std::max(highest, vote.value(QStringLiteral("fence")).toInteger());
    }
    QCOMPARE(object.value(QStringLiteral("fence")).toInteger(), highest);
}

void TestLockctlLock::redlockMinorityHeldStillAcquires()
{
    const QString key = testKey();
    LS_VERIFY_OK(admin(2).command({QByteArrayView("SET"), key.toUtf8(), QByteArrayView("someone-else"),
                                   QByteArrayView("PX"), "60000"}));
    const RunResult result = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                         QStringLiteral("10s"), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY2(
        field(result.out, QStringLiteral("nodes")).startsWith(QStringLiteral("2 of 3 granted (quorum 2)")),
        describe(result).constData());
    // The per-node table names the node that said no.
    QVERIFY2(result.out.contains(QStringLiteral("held by another owner")), describe(result).constData());
    auto foreign = admin(2).command({QByteArrayView("GET"), key.toUtf8()});
    LS_VERIFY_OK(foreign);
    QCOMPARE(foreign->bytes(), QByteArray("someone-else"));
}

void TestLockctlLock::redlockMajorityHeldIsHeld()
{
    const QString key = testKey();
    for (int i = 1; i < 3; ++i)
        LS_VERIFY_OK(admin(i).command({QByteArrayView("SET"), key.toUtf8(), QByteArrayView("someone-else"),
                                       QByteArrayView("PX"), "60000"}));
    const RunResult result =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("10s"),
                    QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 3, describe(result).constData());
    // The node it did get was released again.
    auto exists = admin(0).command({QByteArrayView("EXISTS"), key.toUtf8()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), 0);
    bool ok = false;
    const QJsonArray votes = parseObject(result, ok).value(QStringLiteral("votes")).toArray();
    QVERIFY(ok);
    QCOMPARE(votes.size(), 3);
    QCOMPARE(votes[0][QStringLiteral("outcome")].toString(), QStringLiteral("released"));
    QCOMPARE(votes[1][QStringLiteral("outcome")].toString(), QStringLiteral("held"));
}

void TestLockctlLock::acquireReadWriteAndSemaphore()
{
    const QString key = testKey();
    const QString all = nodes(3);
    const auto acquire = [&](const QString &target, const QStringList &kind) {
        QStringList args{QStringLiteral("acquire"), target, QStringLiteral("--ttl"), QStringLiteral("30s"),
                         QStringLiteral("--nodes"), all,    QStringLiteral("--json")};
        return runLockctl(args + kind);
    };
    const auto zcard = [&](int i, const QString &target) {
        auto reply = admin(i).command({QByteArrayView("ZCARD"), target.toUtf8()});
        return reply ? reply->integer() : -1;
    };
    QStringList readers;
    for (int r = 0; r < 2; ++r) {
        const RunResult result = acquire(key, {QStringLiteral("--read")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        bool ok = false;
        const QJsonObject object = parseObject(result, ok);
        QCOMPARE(object.value(QStringLiteral("kind")).toString(), QStringLiteral("read"));
        QVERIFY(object.value(QStringLiteral("permits")).isNull());
        readers << object.value(QStringLiteral("token")).toString();
    }
    for (int i = 0; i < 3; ++i)
        QCOMPARE(zcard(i, key), 2);
    const RunResult writer = acquire(key, {QStringLiteral("--write")});
    QVERIFY2(writer.exitCode == 3, describe(writer).constData());
    bool ok = false;
    QCOMPARE(parseObject(writer, ok).value(QStringLiteral("kind")).toString(),
             QStringLiteral("not_obtained"));
    QVERIFY2(writer.err.contains(QStringLiteral("held by 2 readers")), describe(writer).constData());
    // release works on a reader's token, and takes only that reader's entry.
    for (const QString &token : readers) {
        const RunResult released = runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"),
                                               token, QStringLiteral("--nodes"), all});
        QVERIFY2(released.exitCode == 0, describe(released).constData());
    }
    for (int i = 0; i < 3; ++i)
        QCOMPARE(zcard(i, key), 0);
    const RunResult written = acquire(key, {QStringLiteral("--write")});
    QVERIFY2(written.exitCode == 0, describe(written).constData());
    QCOMPARE(parseObject(written, ok).value(QStringLiteral("kind")).toString(), QStringLiteral("write"));
    const RunResult lateReader = acquire(key, {QStringLiteral("--read")});
    QVERIFY2(lateReader.exitCode == 3, describe(lateReader).constData());
    QCOMPARE(parseObject(lateReader, ok).value(QStringLiteral("kind")).toString(),
             QStringLiteral("write_lock_held"));

    const QString pool = testKey() + QStringLiteral(":pool");
    for (int p = 0; p < 2; ++p) {
        const RunResult permit = acquire(pool, {QStringLiteral("--semaphore"), QStringLiteral("2")});
        QVERIFY2(permit.exitCode == 0, describe(permit).constData());
        const QJsonObject object = parseObject(permit, ok);
        QCOMPARE(object.value(QStringLiteral("kind")).toString(), QStringLiteral("semaphore"));
        QCOMPARE(object.value(QStringLiteral("permits")).toInt(), 2);
        QCOMPARE(object.value(QStringLiteral("quorum")).toInt(), 3); // 2 permits on 3 nodes: all of them
    }
    const RunResult full = acquire(pool, {QStringLiteral("--semaphore"), QStringLiteral("2")});
    QVERIFY2(full.exitCode == 3, describe(full).constData());
    QVERIFY2(full.err.contains(QStringLiteral("all 2 permits are taken")), describe(full).constData());
    const RunResult other = acquire(pool, {QStringLiteral("--semaphore"), QStringLiteral("5")});
    QVERIFY2(other.exitCode == 2, describe(other).constData());
    QCOMPARE(parseObject(other, ok).value(QStringLiteral("kind")).toString(),
             QStringLiteral("kind_mismatch"));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(zcard(i, pool), 2);
}

void TestLockctlLock::acquireKindUsageErrors()
{
    const QString key = testKey();
    const QList<QStringList> bad{
        {QStringLiteral("--read"), QStringLiteral("--write")},
        {QStringLiteral("--read"), QStringLiteral("--semaphore"), QStringLiteral("2")},
        {QStringLiteral("--semaphore"), QStringLiteral("0")},
        {QStringLiteral("--semaphore"), QStringLiteral("many")}};
    for (const QStringList &kind : bad) {
        const RunResult result =
            runLockctl(QStringList{QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                   QStringLiteral("30s"), QStringLiteral("--nodes"), nodes(1)} +
                       kind);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QVERIFY2(!result.err.isEmpty(), describe(result).constData());
    }
    auto exists = admin(0).command({QByteArrayView("EXISTS"), key.toUtf8()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), 0);
}

void TestLockctlLock::acquireReentrantAndFair()
{
    const QString key = testKey();
    const QStringList base{
        QStringLiteral("acquire"), key,      QStringLiteral("--ttl"), QStringLiteral("30s"),
        QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")};
    const QStringList reentrant{QStringLiteral("--reentrant"), QStringLiteral("--owner"),
                                QStringLiteral("job-7")};
    bool ok = false;
    for (int hold = 1; hold <= 2; ++hold) {
        const RunResult result = runLockctl(base + reentrant);
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        const QJsonObject object = parseObject(result, ok);
        QCOMPARE(object.value(QStringLiteral("kind")).toString(), QStringLiteral("reentrant"));
        QCOMPARE(object.value(QStringLiteral("holds")).toInt(), hold);
        QCOMPARE(object.value(QStringLiteral("token")).toString(), QStringLiteral("job-7"));
    }
    const RunResult other =
        runLockctl(base + QStringList{QStringLiteral("--reentrant"), QStringLiteral("--owner"),
                                      QStringLiteral("job-8")});
    QVERIFY2(other.exitCode == 3, describe(other).constData());
    const QStringList release{QStringLiteral("release"), key,
                              QStringLiteral("--token"), QStringLiteral("job-7"),
                              QStringLiteral("--nodes"), nodes(3)};
    QVERIFY(runLockctl(release).exitCode == 0); // one hold less
    for (int i = 0; i < 3; ++i) {
        auto value = admin(i).command({QByteArrayView("GET"), key.toUtf8()});
        LS_VERIFY_OK(value);
        QCOMPARE(lock::LockValue::parse(value->bytes())->holds, 1);
    }
    QVERIFY(runLockctl(release).exitCode == 0);
    auto gone = admin(0).command({QByteArrayView("EXISTS"), key.toUtf8()});
    LS_VERIFY_OK(gone);
    QCOMPARE(gone->integer(), 0);
    // --owner only with --reentrant.
    QVERIFY(runLockctl(base + QStringList{QStringLiteral("--owner"), QStringLiteral("x")}).exitCode == 2);

    const QString fairKey = testKey() + QStringLiteral(":fair");
    QStringList fair = base;
    fair[1] = fairKey;
    const RunResult taken = runLockctl(fair + QStringList{QStringLiteral("--fair")});
    QVERIFY2(taken.exitCode == 0, describe(taken).constData());
    QCOMPARE(parseObject(taken, ok).value(QStringLiteral("kind")).toString(), QStringLiteral("fair"));
    const RunResult queued = runLockctl(
        fair + QStringList{QStringLiteral("--fair"), QStringLiteral("--wait"), QStringLiteral("200ms")});
    QVERIFY2(queued.exitCode == 1, describe(queued).constData()); // timed out waiting in the queue
    // The waiter that gave up left the queue.
    auto queue = admin(0).command({QByteArrayView("EXISTS"), lock::fairQueueKeysFor(fairKey.toUtf8()).first});
    LS_VERIFY_OK(queue);
    QCOMPARE(queue->integer(), 0);
}

void TestLockctlLock::multiKeyAcquireReleaseTtl()
{
    const QString a = testKey() + QStringLiteral(":a");
    const QString b = testKey() + QStringLiteral(":b");
    const QString c = testKey() + QStringLiteral(":c");
    const RunResult taken =
        runLockctl({QStringLiteral("acquire"), b, a, QStringLiteral("--ttl"), QStringLiteral("30s"),
                    QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
    QVERIFY2(taken.exitCode == 0, describe(taken).constData());
    bool ok = false;
    const QJsonObject object = parseObject(taken, ok);
    QCOMPARE(object.value(QStringLiteral("keys")).toArray(), (QJsonArray{a, b}));
    QCOMPARE(object.value(QStringLiteral("fences")).toArray().size(), 2);
    const QString token = object.value(QStringLiteral("token")).toString();
    const RunResult overlap = runLockctl({QStringLiteral("acquire"), c, b, QStringLiteral("--ttl"),
                                          QStringLiteral("30s"), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(overlap.exitCode == 3, describe(overlap).constData());
    for (int i = 0; i < 3; ++i) {
        auto exists = admin(i).command({QByteArrayView("EXISTS"), c.toUtf8()});
        LS_VERIFY_OK(exists);
        QCOMPARE(exists->integer(), 0); // all or none
    }
    const RunResult left = runLockctl({QStringLiteral("ttl"), a, b, QStringLiteral("--token"), token,
                                       QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
    QVERIFY2(left.exitCode == 0, describe(left).constData());
    QVERIFY2(runLockctl({QStringLiteral("ttl"), a, b, QStringLiteral("--nodes"), nodes(3)}).exitCode == 2,
             "several keys without --token");
    const RunResult released = runLockctl({QStringLiteral("release"), a, b, QStringLiteral("--token"), token,
                                           QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(released.exitCode == 0, describe(released).constData());
    for (int i = 0; i < 3; ++i) {
        auto exists = admin(i).command({QByteArrayView("EXISTS"), a.toUtf8(), b.toUtf8()});
        LS_VERIFY_OK(exists);
        QCOMPARE(exists->integer(), 0);
    }
    // A kind flag takes one key.
    QVERIFY(runLockctl({QStringLiteral("acquire"), a, b, QStringLiteral("--ttl"), QStringLiteral("30s"),
                        QStringLiteral("--read"), QStringLiteral("--nodes"), nodes(1)})
                .exitCode == 2);
}

void TestLockctlLock::acquireWithOwnToken()
{
    const QString key = testKey();
    const QStringList args{QStringLiteral("acquire"), key,
                           QStringLiteral("--ttl"),   QStringLiteral("10s"),
                           QStringLiteral("--token"), QStringLiteral("my-token-1"),
                           QStringLiteral("--nodes"), nodes(1)};
    const RunResult first = runLockctl(args);
    QVERIFY2(first.exitCode == 0, describe(first).constData());
    QCOMPARE(field(first.out, QStringLiteral("token")), QStringLiteral("my-token-1"));
    // The same owner re-acquires (and keeps its fence); another token does not.
    const RunResult again = runLockctl(args);
    QVERIFY2(again.exitCode == 0, describe(again).constData());
    QCOMPARE(field(again.out, QStringLiteral("fence")), field(first.out, QStringLiteral("fence")));
    QStringList other = args;
    other[5] = QStringLiteral("my-token-2");
    QCOMPARE(runLockctl(other).exitCode, 3);
}

void TestLockctlLock::acquireWithoutFencing()
{
    const QString key = testKey();
    const RunResult result = runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"),
                                         QStringLiteral("10s"), QStringLiteral("--no-fencing"),
                                         QStringLiteral("--nodes"), nodes(3), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY(ok);
    QVERIFY(object.value(QStringLiteral("fence")).isNull());
    QCOMPARE(object.value(QStringLiteral("fencing")).toBool(true), false);
    for (int i = 0; i < 3; ++i) {
        auto value = admin(i).command({QByteArrayView("GET"), key.toUtf8()});
        LS_VERIFY_OK(value);
        QVERIFY2(!value->bytes().contains(" fence="), value->bytes().constData());
        auto counter = admin(i).command({QByteArrayView("EXISTS"), lock::fenceKeyFor(key.toUtf8())});
        LS_VERIFY_OK(counter);
        QCOMPARE(counter->integer(), 0);
    }
    // Release works the same.
    const RunResult released =
        runLockctl({QStringLiteral("release"), key, QStringLiteral("--token"),
                    object.value(QStringLiteral("token")).toString(), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(released.exitCode == 0, describe(released).constData());
}

void TestLockctlLock::downNodeIsError()
{
    auto server = test::startServer(ServerKind::Plain);
    QVERIFY2(server.has_value(), test::describe(server).constData());
    const QString url = (*server)->url();
    (*server)->kill();

    const RunResult result =
        runLockctl({QStringLiteral("acquire"), testKey(), QStringLiteral("--ttl"), QStringLiteral("10s"),
                    QStringLiteral("--nodes"), url, QStringLiteral("--timeout"), QStringLiteral("500ms")});
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    QCOMPARE(result.errLines().size(), 1);
    QVERIFY2(result.err.contains(QStringLiteral("connection")), describe(result).constData());

    // On a 3-node set with one node down the quorum still holds.
    const RunResult redlock =
        runLockctl({QStringLiteral("acquire"), testKey(), QStringLiteral("--ttl"), QStringLiteral("10s"),
                    QStringLiteral("--nodes"), nodes(2) + QLatin1Char(',') + url, QStringLiteral("--json")});
    QVERIFY2(redlock.exitCode == 0, describe(redlock).constData());
    bool ok = false;
    const QJsonArray votes = parseObject(redlock, ok).value(QStringLiteral("nodes")).toArray();
    QVERIFY(ok);
    QCOMPARE(votes[2][QStringLiteral("outcome")].toString(), QStringLiteral("error"));
    QCOMPARE(votes[2][QStringLiteral("error_kind")].toString(), QStringLiteral("refused"));
}

namespace {

/// A single-node lock command the node refused: exit 1, the cause in the message and the vote.
void verifyRefusal(const RunResult &result, const QString &kind, const QString &cause)
{
    QVERIFY2(result.exitCode == 1, describe(result).constData());
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY2(ok, describe(result).constData());
    const QJsonArray votes = object.value(QStringLiteral("votes")).toArray();
    QCOMPARE(votes.size(), 1);
    QCOMPARE(votes[0][QStringLiteral("outcome")].toString(), QStringLiteral("error"));
    QVERIFY2(votes[0][QStringLiteral("error")].toString().contains(cause), describe(result).constData());
    QVERIFY2(result.err.contains(cause), describe(result).constData());
    QCOMPARE(object.value(QStringLiteral("kind")).toString(), kind);
}

QStringList acquireJsonArgs(const QString &key, const QString &url)
{
    return {QStringLiteral("acquire"), key, QStringLiteral("--ttl"),  QStringLiteral("10s"),
            QStringLiteral("--nodes"), url, QStringLiteral("--json"), QStringLiteral("--timeout"),
            QStringLiteral("2s")};
}

qint64 integerReply(redis::Connection &connection, std::initializer_list<QByteArrayView> command)
{
    const auto reply = connection.command(command);
    return reply && reply->isInteger() ? reply->integer() : -1;
}

} // namespace

void TestLockctlLock::acquireDeniedByAclIsPermission()
{
    auto server = test::startServer(ServerKind::Plain);
    QVERIFY2(server.has_value(), test::describe(server).constData());
    redis::Connection admin((*server)->nodeConfig());
    LS_VERIFY_OK(
        admin.command({"ACL", "SETUSER", "noscripts", "on", ">noscripts-pw", "~*", "+@all", "-@scripting"}));
    const QString url = QStringLiteral("redis://noscripts:noscripts-pw@127.0.0.1:%1").arg((*server)->port());

    const RunResult result = runLockctl(acquireJsonArgs(testKey(), url));
    verifyRefusal(result, QStringLiteral("permission"), QStringLiteral("permission denied: NOPERM"));
    QCOMPARE(integerReply(admin, {"EXISTS", testKey().toUtf8()}), 0);
}

void TestLockctlLock::acquireOnReplicaIsReadOnlyReplica()
{
    auto master = test::startServer(ServerKind::Plain);
    QVERIFY2(master.has_value(), test::describe(master).constData());
    auto replica = test::startServer(ServerKind::Plain);
    QVERIFY2(replica.has_value(), test::describe(replica).constData());
    redis::Connection admin((*replica)->nodeConfig());
    LS_VERIFY_OK(admin.command({"CONFIG", "SET", "replica-read-only", "yes"}));
    LS_VERIFY_OK(admin.command(
        {QByteArrayView("REPLICAOF"), QByteArrayView("127.0.0.1"), QByteArray::number((*master)->port())}));
    // Past the initial sync, so that nothing but READONLY can refuse the write.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const auto info = admin.command({"INFO", "replication"});
            return info && info->bytes().contains("master_link_status:up");
        }(),
        10000);

    const RunResult result = runLockctl(acquireJsonArgs(testKey(), (*replica)->url()));
    verifyRefusal(result, QStringLiteral("read_only_replica"), QStringLiteral("read-only replica: READONLY"));
    QCOMPARE(integerReply(admin, {"EXISTS", testKey().toUtf8()}), 0);
    redis::Connection onMaster((*master)->nodeConfig());
    QCOMPARE(integerReply(onMaster, {"EXISTS", testKey().toUtf8()}), 0);
}

void TestLockctlLock::acquireAtMaxmemoryIsOutOfMemory()
{
    auto server = test::startServer(ServerKind::Plain);
    QVERIFY2(server.has_value(), test::describe(server).constData());
    redis::Connection admin((*server)->nodeConfig());
    LS_VERIFY_OK(admin.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
    LS_VERIFY_OK(admin.command({"CONFIG", "SET", "maxmemory", "1"}));

    const RunResult result = runLockctl(acquireJsonArgs(testKey(), (*server)->url()));
    verifyRefusal(result, QStringLiteral("out_of_memory"), QStringLiteral("out of memory: OOM"));
    LS_VERIFY_OK(admin.command({"CONFIG", "SET", "maxmemory", "0"}));
    QCOMPARE(integerReply(admin, {"EXISTS", testKey().toUtf8()}), 0);
}

void TestLockctlLock::acquireOfListKeyIsWrongType()
{
    const QByteArray key = testKey().toUtf8();
    QCOMPARE(integerReply(admin(0), {"RPUSH", key, "job-1"}), 1);

    const RunResult result = runLockctl(acquireJsonArgs(testKey(), nodes(1)));
    verifyRefusal(result, QStringLiteral("wrong_type"), QStringLiteral("wrong type: WRONGTYPE"));
    QCOMPARE(integerReply(admin(0), {"LLEN", key}), 1); // the list is left as it was
    LS_VERIFY_OK(admin(0).command({"DEL", key}));
}

void TestLockctlLock::ttlOfNonStringKeyIsNotALock()
{
    const QByteArray key = testKey().toUtf8();
    QCOMPARE(integerReply(admin(0), {"RPUSH", key, "job-1"}), 1);

    const RunResult list =
        runLockctl({QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(list.exitCode == 4, describe(list).constData());
    QVERIFY2(list.out.contains(QStringLiteral("the key holds a list, not a lock")),
             describe(list).constData());
    QVERIFY2(list.err.contains(QStringLiteral("the key holds a list, not a lock")),
             describe(list).constData());
    QVERIFY2(!list.out.contains(QStringLiteral("WRONGTYPE")), describe(list).constData());

    const RunResult json = runLockctl(
        {QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(1), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 4, describe(json).constData());
    bool ok = false;
    const QJsonObject object = parseObject(json, ok);
    QVERIFY2(ok, describe(json).constData());
    QCOMPARE(object.value(QStringLiteral("held")).toBool(), false);
    const QJsonObject node = object.value(QStringLiteral("nodes")).toArray().at(0).toObject();
    QCOMPARE(node.value(QStringLiteral("type")).toString(), QStringLiteral("list"));
    QCOMPARE(node.value(QStringLiteral("value_error")).toString(),
             QStringLiteral("the key holds a list, not a lock"));
    QVERIFY(node.value(QStringLiteral("owner")).isNull());
    QCOMPARE(integerReply(admin(0), {"LLEN", key}), 1);

    // A hash, on one node of three; the other two hold nothing: no quorum either way.
    LS_VERIFY_OK(admin(0).command({"DEL", key}));
    QCOMPARE(integerReply(admin(1), {"HSET", key, "owner", "x"}), 1);
    const RunResult hash =
        runLockctl({QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(3)});
    QVERIFY2(hash.exitCode == 4, describe(hash).constData());
    QVERIFY2(hash.out.contains(QStringLiteral("the key holds a hash, not a lock")),
             describe(hash).constData());
    LS_VERIFY_OK(admin(1).command({"DEL", key}));
}

void TestLockctlLock::ttlWithoutTokenListsReadersAndPermits()
{
    // A read lock held by two readers on 3 nodes is a lock (not "a zset, not a lock"): every
    // node lists both holders with their own TTLs.
    const QString key = testKey();
    const QString all = nodes(3);
    QStringList readers;
    for (int r = 0; r < 2; ++r) {
        const RunResult result =
            runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("30s"),
                        QStringLiteral("--nodes"), all, QStringLiteral("--read"), QStringLiteral("--json")});
        QVERIFY2(result.exitCode == 0, describe(result).constData());
        bool ok = false;
        readers << parseObject(result, ok).value(QStringLiteral("token")).toString();
    }
    const RunResult json =
        runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--nodes"), all, QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, describe(json).constData());
    bool ok = false;
    const QJsonObject object = parseObject(json, ok);
    QVERIFY2(ok, describe(json).constData());
    QCOMPARE(object.value(QStringLiteral("held")).toBool(), true);
    const QJsonArray nodeStates = object.value(QStringLiteral("nodes")).toArray();
    QCOMPARE(nodeStates.size(), 3);
    for (const QJsonValue &entry : nodeStates) {
        const QJsonObject node = entry.toObject();
        QCOMPARE(node.value(QStringLiteral("kind")).toString(), QStringLiteral("read"));
        QCOMPARE(node.value(QStringLiteral("lockscope")).toBool(), true);
        QVERIFY(node.value(QStringLiteral("type")).isNull());
        QStringList tokens;
        for (const QJsonValue &holder : node.value(QStringLiteral("holders")).toArray()) {
            tokens << holder.toObject().value(QStringLiteral("token")).toString();
            const qint64 left = holder.toObject().value(QStringLiteral("pttl_ms")).toInteger();
            QVERIFY2(left > 0 && left <= 30000, QByteArray::number(left));
            QCOMPARE(holder.toObject().value(QStringLiteral("mode")).toString(), QStringLiteral("r"));
        }
        tokens.sort();
        QStringList expected = readers;
        expected.sort();
        QCOMPARE(tokens, expected);
    }
    const RunResult human = runLockctl({QStringLiteral("ttl"), key, QStringLiteral("--nodes"), all});
    QVERIFY2(human.exitCode == 0, describe(human).constData());
    QVERIFY2(human.out.contains(QStringLiteral("2 readers")), describe(human).constData());
    QVERIFY2(!human.out.contains(QStringLiteral("not a lock")), describe(human).constData());

    // A semaphore on one node: "1 of 2 permits".
    const QString pool = testKey() + QStringLiteral(":pool");
    const RunResult permit =
        runLockctl({QStringLiteral("acquire"), pool, QStringLiteral("--ttl"), QStringLiteral("30s"),
                    QStringLiteral("--nodes"), nodes(1), QStringLiteral("--semaphore"), QStringLiteral("2")});
    QVERIFY2(permit.exitCode == 0, describe(permit).constData());
    const RunResult permits = runLockctl({QStringLiteral("ttl"), pool, QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(permits.exitCode == 0, describe(permits).constData());
    QVERIFY2(permits.out.contains(QStringLiteral("1 of 2 permits")), describe(permits).constData());

    // A sorted set that is not ours stays "not a lock".
    const QByteArray other = (testKey() + QStringLiteral(":scores")).toUtf8();
    QCOMPARE(integerReply(admin(0), {"ZADD", other, "1", "alice"}), 1);
    const RunResult scores =
        runLockctl({QStringLiteral("ttl"), QString::fromUtf8(other), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(scores.exitCode == 4, describe(scores).constData());
    QVERIFY2(scores.out.contains(QStringLiteral("the key holds a zset, not a lock")),
             describe(scores).constData());
    // Reading changed nothing.
    for (int i = 0; i < 3; ++i) {
        auto card = admin(i).command({QByteArrayView("ZCARD"), key.toUtf8()});
        LS_VERIFY_OK(card);
        QCOMPARE(card->integer(), 2);
    }
    QCOMPARE(integerReply(admin(0), {"ZCARD", other}), 1);
}

void TestLockctlLock::duplicatedTokenFieldIsNotDecoded()
{
    const QByteArray key = testKey().toUtf8();
    const QByteArray value = "ls1 tok=abc tok=def fence=1 host=web-1";
    LS_VERIFY_OK(admin(0).command({QByteArrayView("SET"), key, value, QByteArrayView("PX"), "60000"}));

    // ttl: shown raw, no token claimed.
    const RunResult ttl = runLockctl(
        {QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(1), QStringLiteral("--json")});
    QVERIFY2(ttl.exitCode == 0, describe(ttl).constData()); // the key is there, just not decoded
    bool ok = false;
    const QJsonObject node = parseObject(ttl, ok).value(QStringLiteral("nodes")).toArray().at(0).toObject();
    QVERIFY2(ok, describe(ttl).constData());
    QCOMPARE(node.value(QStringLiteral("lockscope")).toBool(), false);
    QVERIFY(node.value(QStringLiteral("owner")).isNull());
    QCOMPARE(node.value(QStringLiteral("value")).toString(), QString::fromUtf8(value));
    const RunResult table =
        runLockctl({QStringLiteral("ttl"), testKey(), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(table.exitCode == 0, describe(table).constData());
    QVERIFY2(table.out.contains(QStringLiteral("foreign: ls1 tok=abc tok=def")), describe(table).constData());

    // show: whatever schema reads it, the token is not def.
    const RunResult show = runLockctl(
        {QStringLiteral("show"), testKey(), QStringLiteral("--nodes"), nodes(1), QStringLiteral("--json")});
    QVERIFY2(show.exitCode == 0, describe(show).constData());
    const QJsonObject record = parseObject(show, ok);
    QVERIFY2(ok, describe(show).constData());
    QVERIFY2(record.value(QStringLiteral("token")).toString() != QStringLiteral("def"),
             describe(show).constData());
    QVERIFY2(record.value(QStringLiteral("schema")).toString() != QStringLiteral("lockscope"),
             describe(show).constData());

    // What the release script compares is the first token: def releases nothing, abc releases.
    const RunResult wrong = runLockctl({QStringLiteral("release"), testKey(), QStringLiteral("--token"),
                                        QStringLiteral("def"), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(wrong.exitCode == 4, describe(wrong).constData());
    QCOMPARE(integerReply(admin(0), {"EXISTS", key}), 1);
    const RunResult right = runLockctl({QStringLiteral("release"), testKey(), QStringLiteral("--token"),
                                        QStringLiteral("abc"), QStringLiteral("--nodes"), nodes(1)});
    QVERIFY2(right.exitCode == 0, describe(right).constData());
    QCOMPARE(integerReply(admin(0), {"EXISTS", key}), 0);
}

void TestLockctlLock::malformedUrlIsUsageError()
{
    const QString bad = QStringLiteral("redis://127.0.0.1:99999");
    const RunResult result =
        runLockctl({QStringLiteral("acquire"), testKey(), QStringLiteral("--ttl"), QStringLiteral("10s"),
                    QStringLiteral("--nodes"), nodes(1) + u',' + bad});
    QVERIFY2(result.exitCode == 2, describe(result).constData());
    QCOMPARE(result.errLines().size(), 1);
    QVERIFY2(result.err.contains(bad), describe(result).constData());
    // Nothing was contacted: the good node has no key.
    auto exists = admin(0).command({QByteArrayView("EXISTS"), testKey().toUtf8()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), 0);
}

void TestLockctlLock::durationWithoutUnitIsUsageError()
{
    // Issue 13, defect 5: --ttl 30 used to take a 30 ms lock and exit 0.
    const QString key = testKey();
    const QString a = m_servers[0]->url();
    const QList<std::pair<QStringList, QString>> cases{
        {{QStringLiteral("--ttl"), QStringLiteral("30")},
         QStringLiteral("--ttl: \"30\" has no unit: write 30ms, 30s or 30m")},
        {{QStringLiteral("--ttl"), QStringLiteral("30s"), QStringLiteral("--wait"), QStringLiteral("3")},
         QStringLiteral("--wait: \"3\" has no unit")},
        {{QStringLiteral("--ttl"), QStringLiteral("30s"), QStringLiteral("--timeout"), QStringLiteral("5")},
         QStringLiteral("--timeout: \"5\" has no unit")},
    };
    for (const auto &[options, message] : cases) {
        const RunResult result =
            runLockctl(QStringList{QStringLiteral("acquire"), key, QStringLiteral("--nodes"), a} + options);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QVERIFY2(result.err.contains(message), describe(result).constData());
    }
    // A URL option too.
    const RunResult url =
        runLockctl({QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("30s"),
                    QStringLiteral("--nodes"), a + QStringLiteral("?timeout=500")});
    QVERIFY2(url.exitCode == 2, describe(url).constData());
    QVERIFY2(url.err.contains(QStringLiteral("timeout: \"500\" has no unit")), describe(url).constData());
    auto exists = admin(0).command({QByteArrayView("EXISTS"), key.toUtf8()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), qint64(0));
}

void TestLockctlLock::nodeListedTwiceIsUsageError()
{
    // Issue 10, defect 6: A,A,B would let A vote twice, a "quorum" resting on one server.
    const QString key = testKey();
    const QString a = m_servers[0]->url();
    const QString b = m_servers[1]->url();
    const auto nothingWritten = [&] {
        for (int i = 0; i < 2; ++i) {
            auto exists = admin(i).command({QByteArrayView("EXISTS"), key.toUtf8()});
            if (!exists || exists->integer() != 0)
                return false;
        }
        return true;
    };
    const QStringList acquire{QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("10s")};

    const RunResult twice =
        runLockctl(acquire + QStringList{QStringLiteral("--nodes"), a + u',' + a + u',' + b});
    QVERIFY2(twice.exitCode == 2, describe(twice).constData());
    QCOMPARE(twice.errLines().size(), 1);
    QVERIFY2(twice.err.contains(QStringLiteral("--nodes: %1 is listed twice (entries 1 and 2)").arg(a)),
             describe(twice).constData());
    QVERIFY(nothingWritten());

    // Spelled differently, across two --nodes options, from the environment: the same.
    const QString respelled = a + QStringLiteral("/0?name=again");
    const RunResult same = runLockctl(
        acquire + QStringList{QStringLiteral("--nodes"), a + u',' + b, QStringLiteral("--nodes"), respelled});
    QVERIFY2(same.exitCode == 2, describe(same).constData());
    QVERIFY2(same.err.contains(
                 QStringLiteral("%1 and %2 are the same server (entries 1 and 3)").arg(a, respelled)),
             describe(same).constData());
    const RunResult fromEnv = runLockctl(acquire, b + u',' + a + u',' + a);
    QVERIFY2(fromEnv.exitCode == 2, describe(fromEnv).constData());
    QVERIFY2(
        fromEnv.err.contains(QStringLiteral("$LOCKSCOPE_NODES: %1 is listed twice (entries 2 and 3)").arg(a)),
        describe(fromEnv).constData());
    QVERIFY(nothingWritten());

    // A saved group that lists a node twice is refused when the groups file is read.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString groups = dir.filePath(QStringLiteral("groups.json"));
    QFile file(groups);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral(R"({"version":1,"groups":[{"name":"twice","nodes":[{"url":"%1"},{"url":"%2"},
                                 {"url":"%1"}]}]})")
                   .arg(a, b)
                   .toUtf8());
    file.close();
    const RunResult group =
        lockscope::test::runLockctl(acquire + QStringList{QStringLiteral("--group"), QStringLiteral("twice")},
                                    {{QStringLiteral("LOCKSCOPE_CONFIG"), groups}});
    QVERIFY2(group.exitCode == 2, describe(group).constData());
    QCOMPARE(group.errLines().size(), 1);
    QVERIFY2(group.err.contains(QStringLiteral("group \"twice\", node 3")), describe(group).constData());
    QVERIFY2(group.err.contains(QStringLiteral("as node 1")), describe(group).constData());
    QVERIFY(nothingWritten());

    // Distinct servers still make a Redlock set.
    const RunResult distinct = runLockctl(acquire + QStringList{QStringLiteral("--nodes"), a + u',' + b});
    QVERIFY2(distinct.exitCode == 0, describe(distinct).constData());
}

void TestLockctlLock::missingNodesIsUsageError()
{
    for (const QString &command :
         {QStringLiteral("acquire"), QStringLiteral("release"), QStringLiteral("ttl")}) {
        QStringList args{command, testKey()};
        if (command == QLatin1String("acquire"))
            args << QStringLiteral("--ttl") << QStringLiteral("10s");
        if (command == QLatin1String("release"))
            args << QStringLiteral("--token") << QStringLiteral("t");
        const RunResult result = runLockctl(args);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QCOMPARE(result.errLines().size(), 1);
        QVERIFY2(
            result.err.contains(QStringLiteral("no nodes: give --nodes URL[,URL...] or set LOCKSCOPE_NODES")),
            describe(result).constData());
    }
}

void TestLockctlLock::nodesFromEnvironment()
{
    const QString key = testKey();
    const RunResult result = runLockctl(
        {QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("10s")}, nodes(3));
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    QVERIFY2(field(result.out, QStringLiteral("nodes")).startsWith(QStringLiteral("3 of 3 granted")),
             describe(result).constData());
    // --nodes wins over the environment.
    const RunResult explicitNodes = runLockctl(
        {QStringLiteral("ttl"), key, QStringLiteral("--nodes"), nodes(1)}, QStringLiteral("redis://x:1"));
    QVERIFY2(explicitNodes.exitCode == 0, describe(explicitNodes).constData());
}

void TestLockctlLock::missingTtlAndTokenAreUsageErrors()
{
    const QString key = testKey();
    const QList<QStringList> cases{
        {QStringLiteral("acquire"), key, QStringLiteral("--nodes"), nodes(1)},
        {QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("soon"),
         QStringLiteral("--nodes"), nodes(1)},
        {QStringLiteral("acquire"), QStringLiteral("--ttl"), QStringLiteral("1s"), QStringLiteral("--nodes"),
         nodes(1)},
        {QStringLiteral("extend"), key, QStringLiteral("--ttl"), QStringLiteral("1s"),
         QStringLiteral("--nodes"), nodes(1)},
        {QStringLiteral("release"), key, QStringLiteral("--nodes"), nodes(1)},
        {QStringLiteral("acquire"), key, QStringLiteral("--ttl"), QStringLiteral("1s"),
         QStringLiteral("--wait"), QStringLiteral("0"), QStringLiteral("--nodes"), nodes(1)},
    };
    for (const QStringList &args : cases) {
        const RunResult result = runLockctl(args);
        QVERIFY2(result.exitCode == 2,
                 (describe(result) + "\nargs: " + args.join(u' ').toUtf8()).constData());
        QCOMPARE(result.errLines().size(), 1);
    }
    auto exists = admin(0).command({QByteArrayView("EXISTS"), key.toUtf8()});
    LS_VERIFY_OK(exists);
    QCOMPARE(exists->integer(), 0);
}

void TestLockctlLock::helpListsExitCodes()
{
    const RunResult top = runLockctl({QStringLiteral("--help")});
    QCOMPARE(top.exitCode, 0);
    for (const char *word :
         {"acquire", "extend", "release", "ttl", "LOCKSCOPE_NODES", "3  acquire", "4  extend"})
        QVERIFY2(top.out.contains(QLatin1String(word)), word);
    const RunResult acquire = runLockctl({QStringLiteral("help"), QStringLiteral("acquire")});
    QCOMPARE(acquire.exitCode, 0);
    QVERIFY(acquire.out.contains(QStringLiteral("--wait")));
    QVERIFY(acquire.out.contains(QStringLiteral("3 held by another")));
    const RunResult bench = runLockctl({QStringLiteral("bench"), QStringLiteral("--help")});
    QCOMPARE(bench.exitCode, 0);
    QVERIFY(bench.out.contains(QStringLiteral("--rounds")));
    QVERIFY(bench.out.contains(QStringLiteral("bench ping")));
}

void TestLockctlLock::benchJson()
{
    const RunResult result = runLockctl(
        {QStringLiteral("bench"), QStringLiteral("--nodes"), nodes(1), QStringLiteral("--duration"),
         QStringLiteral("300ms"), QStringLiteral("--rounds"), QStringLiteral("1"), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    bool ok = false;
    const QJsonObject object = parseObject(result, ok);
    QVERIFY2(ok, describe(result).constData());
    QVERIFY(object.value(QStringLiteral("cycles_per_sec")).toDouble() > 0);
    QVERIFY(object.value(QStringLiteral("p50_us")).toDouble() > 0);
    QVERIFY(object.value(QStringLiteral("p99_us")).toDouble() >=
            object.value(QStringLiteral("p50_us")).toDouble());
    const QJsonObject bare = object.value(QStringLiteral("bare_hiredis")).toObject();
    QVERIFY(bare.value(QStringLiteral("cycles_per_sec")).toDouble() > 0);
    QVERIFY(bare.value(QStringLiteral("p50_us")).toDouble() > 0);
    QVERIFY(object.value(QStringLiteral("ratio")).toDouble() > 0);
    const QJsonArray rounds = object.value(QStringLiteral("rounds")).toArray();
    QCOMPARE(rounds.size(), 1);
    QVERIFY(rounds[0][QStringLiteral("lockscope")][QStringLiteral("cycles")].toInteger() > 0);
}

void TestLockctlLock::benchLockTable()
{
    const RunResult result =
        runLockctl({QStringLiteral("bench"), QStringLiteral("lock"), QStringLiteral("--nodes"), nodes(3),
                    QStringLiteral("--duration"), QStringLiteral("200ms"), QStringLiteral("--rounds"),
                    QStringLiteral("2"), QStringLiteral("--clients"), QStringLiteral("2")});
    QVERIFY2(result.exitCode == 0, describe(result).constData());
    const QStringList lines = result.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(lines.size() == 6, describe(result).constData()); // title, header, 2 rounds, median, ratio
    QVERIFY2(lines[0].contains(QStringLiteral("3 nodes (quorum 2), 2 clients")),
             describe(result).constData());
    QVERIFY(lines[4].startsWith(QStringLiteral("median")));
    QVERIFY(lines[5].startsWith(QStringLiteral("ratio lockscope / bare hiredis: ")));

    const RunResult tls = runLockctl({QStringLiteral("bench"), QStringLiteral("--nodes"),
                                      QStringLiteral("rediss://127.0.0.1:1"), QStringLiteral("--duration"),
                                      QStringLiteral("100ms")});
    QVERIFY2(tls.exitCode == 2, describe(tls).constData());
}

QTEST_GUILESS_MAIN(TestLockctlLock)
#include "tst_lockctl_lock.moc"
