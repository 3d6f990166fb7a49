// Locks written by the real npm redis-semaphore (5.x, with ioredis as its client) into a real
// redis-server: its Mutex, Semaphore and MultiSemaphore, held by the peer process while the
// Scanner reads them. The packages come from tests/peers/node (package.json and the committed
// package-lock.json), installed by scripts/test.sh with `npm ci` into <build>/peers/node.
// Without node or those packages the test fails and says how to install them.

#include "inspect/keyread.h"
#include "inspect/scanner.h"
#include "lockfixture.h"

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

constexpr int kReplyTimeoutMs = 60000; // generous: node starts slowly on a busy machine

QString nodeModulesDir()
{
    const QString fromEnv = qEnvironmentVariable("LOCKSCOPE_NODE_MODULES");
    return fromEnv.isEmpty() ? QStringLiteral(LOCKSCOPE_NODE_MODULES) : fromEnv;
}

/// The redis-semaphore peer (tests/peers/node/semaphore-peer.js): one JSON line per command.
class SemaphorePeer
{
public:
    ~SemaphorePeer()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.write("quit\n");
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    std::optional<QString> start(const QString &node, quint16 port)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("NODE_PATH"), nodeModulesDir());
        m_process.setProcessEnvironment(environment);
        m_process.start(node, {QStringLiteral(LOCKSCOPE_SEMAPHORE_PEER_SCRIPT), QString::number(port)});
        if (!m_process.waitForStarted(kReplyTimeoutMs))
            return QStringLiteral("node did not start: %1").arg(m_process.errorString());
        const auto ready = readAnswer();
        if (!ready || !ready->value(QStringLiteral("ready")).toBool())
            return QStringLiteral("the peer did not get ready: %1")
                .arg(ready ? QString::fromUtf8(QJsonDocument(*ready).toJson(QJsonDocument::Compact))
                           : ready.error());
        return std::nullopt;
    }

    /// Sends one acquire; the identifier the library drew, or why there is none.
    std::expected<QByteArray, QString> acquire(const QByteArray &command)
    {
        m_process.write(command + '\n');
        const auto answer = readAnswer();
        if (!answer)
            return std::unexpected(answer.error());
        if (!answer->value(QStringLiteral("ok")).toBool())
            return std::unexpected(QString::fromUtf8(QJsonDocument(*answer).toJson(QJsonDocument::Compact)));
        return answer->value(QStringLiteral("identifier")).toString().toLatin1();
    }

private:
    std::expected<QJsonObject, QString> readAnswer()
    {
        const QDeadlineTimer deadline(kReplyTimeoutMs);
        while (!m_process.canReadLine()) {
            if (m_process.state() == QProcess::NotRunning || deadline.hasExpired() ||
                !m_process.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())))) {
                if (m_process.canReadLine())
                    break;
                return std::unexpected(QStringLiteral("no answer from the node peer; its stderr: %1")
                                           .arg(QString::fromUtf8(m_process.readAllStandardError())));
            }
        }
        const QJsonDocument document = QJsonDocument::fromJson(m_process.readLine());
        if (!document.isObject())
            return std::unexpected(QStringLiteral("not a JSON object from the peer"));
        return document.object();
    }

    QProcess m_process;
};

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
        SemaphorePeer peer;
        if (auto error = peer.start(m_node, set->server(0).port()))
            QFAIL(qPrintable(*error));

        const auto mutex = peer.acquire("mutex jobs 60000");
        QVERIFY2(mutex, qPrintable(mutex.error()));
        const auto first = peer.acquire("semaphore pool 3 60000");
        QVERIFY2(first, qPrintable(first.error()));
        const auto second = peer.acquire("semaphore pool 3 60000");
        QVERIFY2(second, qPrintable(second.error()));
        const auto multi = peer.acquire("multi batch 5 2 60000");
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
