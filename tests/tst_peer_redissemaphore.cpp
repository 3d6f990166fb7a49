// Locks written by the real npm redis-semaphore (5.x, with ioredis as its client) into a real
// redis-server: its Mutex, Semaphore and MultiSemaphore, held by the peer process while the
// Scanner reads them. The packages come from tests/peers/node (package.json and the committed
// package-lock.json), installed by scripts/test.sh with `npm ci` into <build>/peers/node.
// Without node or those packages the test fails and says how to install them.

#include "inspect/keyread.h"
#include "inspect/scanner.h"
#include "lockfixture.h"
#include "nodepeer.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTest>
#include <algorithm>
#include <expected>
#include <optional>

using namespace lockscope;
using namespace lockscope::inspect;

namespace {

QString nodeModulesDir()
{
    const QString fromEnv = qEnvironmentVariable("LOCKSCOPE_NODE_MODULES");
    return fromEnv.isEmpty() ? QStringLiteral(LOCKSCOPE_NODE_MODULES) : fromEnv;
}

/// Sends one acquire to the redis-semaphore peer (tests/peers/node/semaphore-peer.js); the
/// identifier the library drew, or why there is none.
std::expected<QByteArray, QString> acquire(lockscope::test::NodePeer &peer, const QByteArray &command)
{
    const auto answer = peer.request(command);
    if (!answer || !answer->value(QStringLiteral("ok")).toBool())
        return std::unexpected(lockscope::test::describeAnswer(answer));
    return answer->value(QStringLiteral("identifier")).toString().toLatin1();
}

const LockRecord *findRecord(const Snapshot &snapshot, const QByteArray &key)
{
    const auto found = std::ranges::find(snapshot.records, key, &LockRecord::key);
    return found == snapshot.records.end() ? nullptr : &*found;
}

/// The decoded lock of the record's first node (the tests run one node).
const DecodedLock *decodedOf(const LockRecord *record)
{
    if (!record || record->nodes.empty() || !record->nodes[0].decoded)
        return nullptr;
    return &*record->nodes[0].decoded;
}

} // namespace

class TestPeerRedisSemaphore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (m_node.isEmpty())
            QFAIL("node is not on PATH: scripts/install-deps.sh installs Debian's nodejs and npm");
        const QDir modules(nodeModulesDir());
        for (const char *package : {"redis-semaphore", "ioredis"}) {
            if (!QFileInfo::exists(
                    modules.filePath(QStringLiteral("%1/package.json").arg(QLatin1String(package)))))
                QFAIL(qPrintable(
                    QStringLiteral("the npm package %1 is not installed in %2: run scripts/test.sh, "
                                   "or npm ci in <build>/peers/node with tests/peers/node/package*.json")
                        .arg(QLatin1String(package), modules.path())));
        }
    }

    void mutexSemaphoreAndMultiSemaphore()
    {
        LS_START_SERVERS(set, 1);
        lockscope::test::NodePeer peer;
        if (auto error = peer.start(m_node, QStringLiteral(LOCKSCOPE_SEMAPHORE_PEER_SCRIPT),
                                    {QString::number(set->server(0).port())}, nodeModulesDir()))
            QFAIL(qPrintable(*error));

        const auto mutex = acquire(peer, "mutex jobs 60000");
        QVERIFY2(mutex, qPrintable(mutex.error()));
        const auto first = acquire(peer, "semaphore pool 3 60000");
        QVERIFY2(first, qPrintable(first.error()));
        const auto second = acquire(peer, "semaphore pool 3 60000");
        QVERIFY2(second, qPrintable(second.error()));
        const auto multi = acquire(peer, "multi batch 5 2 60000");
        QVERIFY2(multi, qPrintable(multi.error()));

        const SchemaRegistry registry = SchemaRegistry::builtins();
        const Snapshot snapshot = Scanner(set->configs(), registry).scan(ScanOptions{}, 1);
        QVERIFY2(snapshot.nodes[0].ok, qPrintable(snapshot.nodes[0].error));
        QCOMPARE(snapshot.records.size(), std::size_t(3));

        const DecodedLock *m = decodedOf(findRecord(snapshot, "mutex:jobs"));
        QVERIFY(m);
        QCOMPARE(m->schema, QStringLiteral("redis-semaphore-mutex"));
        QCOMPARE(m->kind, QStringLiteral("mutex"));
        QCOMPARE(m->holders.size(), std::size_t(1));
        QCOMPARE(m->holders[0].token, *mutex);
        QCOMPARE(m->holders[0].raw, *mutex);
        QVERIFY(m->holders[0].pttlMs > 0 && m->holders[0].pttlMs <= 60000);

        const DecodedLock *s = decodedOf(findRecord(snapshot, "semaphore:pool"));
        QVERIFY(s);
        QCOMPARE(s->schema, QStringLiteral("redis-semaphore"));
        QCOMPARE(s->kind, QStringLiteral("semaphore"));
        QCOMPARE(s->permits, -1); // the library does not store its limit
        QCOMPARE(s->holders.size(), std::size_t(2));
        QList<QByteArray> tokens{s->holders[0].token, s->holders[1].token};
        std::sort(tokens.begin(), tokens.end());
        QList<QByteArray> expected{*first, *second};
        std::sort(expected.begin(), expected.end());
        QCOMPARE(tokens, expected);
        for (const LockHolder &holder : s->holders) {
            QCOMPARE(holder.raw, holder.token);
            QCOMPARE(holder.count, 1);
            QVERIFY(holder.pttlMs > 0 && holder.pttlMs <= 60000);
        }
        QVERIFY2(s->anomalies.isEmpty(), qPrintable(s->anomalies.join(QLatin1Char(';'))));

        // One holder with two permits: two members "<identifier>_0" and "_1".
        const DecodedLock *b = decodedOf(findRecord(snapshot, "semaphore:batch"));
        QVERIFY(b);
        QCOMPARE(b->kind, QStringLiteral("semaphore"));
        QCOMPARE(b->holders.size(), std::size_t(2));
        QCOMPARE(b->details.value(QStringLiteral("holders")), QStringLiteral("1"));
        for (const LockHolder &holder : b->holders) {
            QCOMPARE(holder.token, *multi);
            QCOMPARE(holder.count, 2);
            QVERIFY(holder.raw == *multi + "_0" || holder.raw == *multi + "_1");
        }
    }

private:
    QString m_node;
};

QTEST_GUILESS_MAIN(TestPeerRedisSemaphore)
#include "tst_peer_redissemaphore.moc"
