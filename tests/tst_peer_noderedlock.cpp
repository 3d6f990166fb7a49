// Locks written by the real node-redlock (npm "redlock", with ioredis as its client) into three
// real redis-servers, read by LockScope's Scanner and force-released by Admin; the library then
// takes the lock again. The packages come from tests/peers/node (package.json and the committed
// package-lock.json), installed by scripts/test.sh with `npm ci` into <build>/peers/node.
// Without node or those packages the test fails and says how to install them: scripts/test.sh
// provides both, so a skip would only hide a broken set-up.

#include "inspect/admin.h"
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
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <expected>
#include <optional>

using namespace lockscope;
using namespace lockscope::inspect;
using lockscope::test::ServerSet;

namespace {

QString installHint()
{
    return QStringLiteral("install them with scripts/test.sh, or by hand: mkdir -p build/peers/node && "
                          "cp tests/peers/node/package*.json build/peers/node/ && "
                          "(cd build/peers/node && npm ci)");
}

/// Where the node peer's packages are: $LOCKSCOPE_NODE_MODULES, else the build tree's.
QString nodeModulesDir()
{
    const QString fromEnv = qEnvironmentVariable("LOCKSCOPE_NODE_MODULES");
    return fromEnv.isEmpty() ? QStringLiteral(LOCKSCOPE_NODE_MODULES) : fromEnv;
}

const LockRecord *findRecord(const Snapshot &snapshot, const QByteArray &key)
{
    const auto found = std::ranges::find(snapshot.records, key, &LockRecord::key);
    return found == snapshot.records.end() ? nullptr : &*found;
}

QString describe(const std::expected<QJsonObject, QString> &answer)
{
    return lockscope::test::describeAnswer(answer);
}

} // namespace

class TestPeerNodeRedlock : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (m_node.isEmpty())
            QFAIL("node is not on PATH: scripts/install-deps.sh installs Debian's nodejs and npm, and "
                  "scripts/test.sh runs it");
        const QDir modules(nodeModulesDir());
        for (const char *package : {"redlock", "ioredis"}) {
            if (!QFileInfo::exists(
                    modules.filePath(QStringLiteral("%1/package.json").arg(QLatin1String(package)))))
                QFAIL(qPrintable(QStringLiteral("the npm package %1 is not installed in %2: %3")
                                     .arg(QLatin1String(package), modules.path(), installHint())));
        }
    }

    void redlockLocksDecodedAndForceReleased()
    {
        LS_START_SERVERS(set, 3);
        QList<quint16> ports;
        for (int i = 0; i < set->size(); ++i)
            ports << set->server(i).port();
        lockscope::test::NodePeer peer;
        QStringList arguments;
        for (quint16 port : ports)
            arguments << QString::number(port);
        if (auto error =
                peer.start(m_node, QStringLiteral(LOCKSCOPE_NODE_PEER_SCRIPT), arguments, nodeModulesDir()))
            QFAIL(qPrintable(*error));
        qInfo("node peer: redlock %s, ioredis %s",
              qPrintable(peer.ready().value(QStringLiteral("redlock")).toString()),
              qPrintable(peer.ready().value(QStringLiteral("ioredis")).toString()));

        // A lock on the first node alone, one on the three nodes as a Redlock set, and one that
        // the library took and released again.
        const auto single = peer.request("acquire single peer:single 60000");
        QVERIFY2(single && single->value(QStringLiteral("ok")).toBool(), qPrintable(describe(single)));
        const auto group = peer.request("acquire group peer:set 60000");
        QVERIFY2(group && group->value(QStringLiteral("ok")).toBool(), qPrintable(describe(group)));
        const auto released = peer.request("acquire group peer:released 60000");
        QVERIFY2(released && released->value(QStringLiteral("ok")).toBool(), qPrintable(describe(released)));
        const auto release = peer.request("release peer:released");
        QVERIFY2(release && release->value(QStringLiteral("ok")).toBool(), qPrintable(describe(release)));
        const QByteArray singleValue = single->value(QStringLiteral("value")).toString().toLatin1();
        const QByteArray groupValue = group->value(QStringLiteral("value")).toString().toLatin1();
        QCOMPARE(singleValue.size(), 32);
        QCOMPARE(groupValue.size(), 32);

        // The peer still holds both locks (its process and Lock objects are alive) while the
        // scanner reads them.
        const SchemaRegistry registry = SchemaRegistry::builtins();
        const Scanner scanner(set->configs(), registry);
        const Snapshot snapshot = scanner.scan(ScanOptions{}, 1);
        for (const NodeScanResult &node : snapshot.nodes)
            QVERIFY2(node.ok, qPrintable(node.error));
        QVERIFY(!findRecord(snapshot, "peer:released"));

        const LockRecord *onOne = findRecord(snapshot, "peer:single");
        QVERIFY(onOne);
        QCOMPARE(onOne->schema, QStringLiteral("node-redlock"));
        QCOMPARE(onOne->token, singleValue);
        QVERIFY(onOne->owner.isEmpty()); // node-redlock records no owner, only its random value
        QCOMPARE(onOne->held, 1);
        QCOMPARE(onOne->of, 3);
        QVERIFY(!onOne->quorum);
        QVERIFY(onOne->anomalies.contains(QLatin1String(anomaly::QuorumLost)));
        QVERIFY(onOne->nodes[0].present());
        QCOMPARE(onOne->nodes[0].raw.value, singleValue);
        QVERIFY(onOne->nodes[0].raw.pttlMs > 0 && onOne->nodes[0].raw.pttlMs <= 60000);
        QVERIFY(!onOne->nodes[1].present() && !onOne->nodes[2].present());

        const LockRecord *onAll = findRecord(snapshot, "peer:set");
        QVERIFY(onAll);
        QCOMPARE(onAll->schema, QStringLiteral("node-redlock"));
        QCOMPARE(onAll->token, groupValue);
        QVERIFY(onAll->owner.isEmpty());
        QCOMPARE(onAll->held, 3);
        QCOMPARE(onAll->of, 3);
        QVERIFY(onAll->quorum);
        QVERIFY2(onAll->anomalies.isEmpty(), qPrintable(onAll->anomalies.join(QLatin1Char(','))));
        for (const NodeEntry &entry : onAll->nodes) {
            QCOMPARE(entry.raw.value, groupValue);
            QVERIFY(entry.decoded.has_value());
            QCOMPARE(entry.decoded->schema, QStringLiteral("node-redlock"));
            QVERIFY(entry.raw.pttlMs > 0 && entry.raw.pttlMs <= 60000);
        }

        // While it is held the library cannot take it again...
        const auto refused = peer.request("acquire group peer:set 60000");
        QVERIFY2(refused && !refused->value(QStringLiteral("ok")).toBool(), qPrintable(describe(refused)));

        // ...until the operator force-releases the value shown: deleted on every node.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        std::vector<AdminNode> nodes;
        for (const redis::NodeConfig &config : set->configs())
            nodes.push_back(AdminNode{config, false, false});
        Admin admin(QStringLiteral("peers"), nodes,
                    Operator{QStringLiteral("alice"), QStringLiteral("ops-box")}, &log);
        const AdminResult result = admin.forceRelease(*onAll, registry);
        QVERIFY2(result.ok, qPrintable(result.message));
        for (int i = 0; i < set->size(); ++i)
            QVERIFY(set->get(i, "peer:set").isNull());

        const auto again = peer.request("acquire group peer:set 60000");
        QVERIFY2(again && again->value(QStringLiteral("ok")).toBool(), qPrintable(describe(again)));
        const QByteArray newValue = again->value(QStringLiteral("value")).toString().toLatin1();
        QVERIFY(newValue != groupValue);
        for (int i = 0; i < set->size(); ++i)
            QCOMPARE(set->get(i, "peer:set"), newValue);

        // A value that changed after it was shown is not deleted: the record still shows the
        // old value.
        const AdminResult stale = admin.forceRelease(*onAll, registry);
        QVERIFY(!stale.ok);
        for (int i = 0; i < set->size(); ++i)
            QCOMPARE(set->get(i, "peer:set"), newValue);
    }

private:
    QString m_node;
};

QTEST_GUILESS_MAIN(TestPeerNodeRedlock)
#include "tst_peer_noderedlock.moc"
