#include "models/nodelistmodel.h"
#include "nodeevents.h"

#include <QTest>

using lockscope::redis::ErrorKind;
using lockscope::redis::NodeStatus;
using lockscope::redis::RedisError;
using Kind = EventLogWidget::Kind;

namespace {

NodeStatus up(const QString &version = QStringLiteral("7.0.15"),
              const QString &role = QStringLiteral("master"))
{
    NodeStatus status;
    status.node = QStringLiteral("a");
    status.reachable = true;
    status.version = version;
    status.role = role;
    return status;
}

NodeStatus down(ErrorKind kind, const QString &message)
{
    NodeStatus status;
    status.node = QStringLiteral("a");
    status.error = RedisError{kind, QStringLiteral("a"), message};
    return status;
}

} // namespace

class TestNodeEvents : public QObject
{
    Q_OBJECT

private slots:
    void firstProbeSaysUpOrDown()
    {
        QCOMPARE(nodeTransition(std::nullopt, up()),
                 (NodeEvent{Kind::Up, QStringLiteral("Up (Redis 7.0.15, master)")}));
        NodeStatus bare;
        bare.reachable = true;
        QCOMPARE(nodeTransition(std::nullopt, bare), (NodeEvent{Kind::Up, QStringLiteral("Up")}));
        const NodeStatus refused = down(ErrorKind::Refused, QStringLiteral("connection refused"));
        const auto event = nodeTransition(std::nullopt, refused);
        QVERIFY(event);
        QCOMPARE(event->kind, Kind::Down);
        QCOMPARE(event->text, QStringLiteral("Down: ") + NodeListModel::failureText(refused));
    }

    void breakerTransitions()
    {
        using lockscope::redis::BreakerEvent;
        using lockscope::redis::BreakerState;
        lockscope::redis::BreakerStatus open;
        open.node = QStringLiteral("demo-2");
        open.state = BreakerState::Open;
        open.consecutiveFailures = 3;
        const QString cause = QStringLiteral("connection refused: nothing is listening on 127.0.0.1:7002");
        open.lastCause = cause;
        const QDateTime at = QDateTime::currentDateTime();
        QCOMPARE(breakerTransition(
                     BreakerEvent{open.node, BreakerState::Closed, BreakerState::Open, cause, at}, open),
                 (NodeEvent{Kind::Down, QStringLiteral("Circuit breaker open after 3 failures: ") + cause}));
        QCOMPARE(breakerTransition(
                     BreakerEvent{open.node, BreakerState::HalfOpen, BreakerState::Open, cause, at}, open),
                 (NodeEvent{Kind::Down,
                            QStringLiteral("Circuit breaker open again, the probe failed: ") + cause}));
        lockscope::redis::BreakerStatus probing = open;
        probing.state = BreakerState::HalfOpen;
        QCOMPARE(
            breakerTransition(BreakerEvent{open.node, BreakerState::Open, BreakerState::HalfOpen,
                                           QStringLiteral("cool-down over: probing"), at},
                              probing),
            (NodeEvent{Kind::Info, QStringLiteral("Circuit breaker half-open: cool-down over, probing")}));
        QCOMPARE(breakerTransition(BreakerEvent{open.node, BreakerState::HalfOpen, BreakerState::Closed,
                                                QStringLiteral("the node answered"), at},
                                   lockscope::redis::BreakerStatus{}),
                 (NodeEvent{Kind::Up, QStringLiteral("Circuit breaker closed again")}));
    }

    void wentDownAndCameBack()
    {
        const NodeStatus refused = down(ErrorKind::Refused, QStringLiteral("connection refused"));
        QCOMPARE(
            nodeTransition(up(), refused),
            (NodeEvent{Kind::Down, QStringLiteral("Went down: ") + NodeListModel::failureText(refused)}));
        QCOMPARE(nodeTransition(refused, up()),
                 (NodeEvent{Kind::Up, QStringLiteral("Came back up (Redis 7.0.15, master)")}));
    }

    void aRepeatSaysNothing()
    {
        QCOMPARE(nodeTransition(up(), up()), std::nullopt);
        const NodeStatus refused = down(ErrorKind::Refused, QStringLiteral("connection refused"));
        // The same kind of failure with another message (a new errno text) is still a repeat.
        QCOMPARE(nodeTransition(refused, down(ErrorKind::Refused, QStringLiteral("refused again"))),
                 std::nullopt);
        // Not knowing the role or version (an ACL user without INFO) is not a change.
        QCOMPARE(nodeTransition(up(), up(QString(), QString())), std::nullopt);
        QCOMPARE(nodeTransition(up(QString(), QString()), up()), std::nullopt);
    }

    void stillDownForAnotherReason()
    {
        const NodeStatus refused = down(ErrorKind::Refused, QStringLiteral("connection refused"));
        const NodeStatus timeout = down(ErrorKind::Timeout, QStringLiteral("no answer in 500 ms"));
        QCOMPARE(
            nodeTransition(refused, timeout),
            (NodeEvent{Kind::Down, QStringLiteral("Still down: ") + NodeListModel::failureText(timeout)}));
    }

    void roleAndVersionChanges()
    {
        // A failover changes who may hold locks: said even though the node stayed up.
        QCOMPARE(nodeTransition(up(QStringLiteral("7.0.15"), QStringLiteral("master")),
                                up(QStringLiteral("7.0.15"), QStringLiteral("replica"))),
                 (NodeEvent{Kind::Info, QStringLiteral("Role changed from master to replica")}));
        QCOMPARE(nodeTransition(up(QStringLiteral("7.0.15")), up(QStringLiteral("7.2.4"))),
                 (NodeEvent{Kind::Info, QStringLiteral("Server version changed from 7.0.15 to 7.2.4")}));
    }

    void scanProblemsSayWhichNodesFailed()
    {
        using lockscope::inspect::NodeScanResult;
        auto node = [](const char *name, bool ok, const char *error = "") {
            NodeScanResult result;
            result.node = QLatin1String(name);
            result.ok = ok;
            result.error = QLatin1String(error);
            return result;
        };
        QString detail = QStringLiteral("unchanged");
        QCOMPARE(scanProblem(QStringLiteral("g"), {node("a", true), node("b", true)}, &detail), QString());
        QCOMPARE(detail, QString());
        QCOMPARE(scanProblem(QStringLiteral("g"), {node("a", true), node("b", false, "b: refused")}, &detail),
                 QStringLiteral("Partial scan of group g: 1 of 2 nodes read; b could not be read"));
        QCOMPARE(detail, QStringLiteral("b: refused"));
        QCOMPARE(
            scanProblem(QStringLiteral("g"), {node("a", false, "a: timeout"), node("b", false, "b: refused")},
                        &detail),
            QStringLiteral("Scan of group g failed: a, b could not be read; its locks stay as last read, "
                           "marked stale"));
        QCOMPARE(detail, QStringLiteral("a: timeout\nb: refused"));
    }
};

QTEST_GUILESS_MAIN(TestNodeEvents)
#include "tst_nodeevents.moc"
