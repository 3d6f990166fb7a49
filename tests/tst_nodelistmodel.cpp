#include "models/nodelistmodel.h"

#include <QAbstractItemModelTester>
#include <QColor>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>
#include <util/duration.h>

using namespace std::chrono_literals;
using lockscope::redis::ErrorKind;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;
using lockscope::redis::RedisError;

namespace {

NodeConfig node(const QString &name, quint16 port)
{
    NodeConfig config;
    config.name = name;
    config.port = port;
    return config;
}

QList<NodeConfig> threeNodes()
{
    return {node(QStringLiteral("a"), 7001), node(QStringLiteral("b"), 7002),
            node(QStringLiteral("c"), 7003)};
}

NodeStatus upStatus(const QString &label, std::chrono::microseconds latency,
                    const QString &version = QStringLiteral("7.0.15"))
{
    NodeStatus status;
    status.node = label;
    status.reachable = true;
    status.latency = latency;
    status.version = version;
    status.role = QStringLiteral("master");
    status.mode = QStringLiteral("standalone");
    status.checkedAt = QDateTime::currentDateTime();
    return status;
}

NodeStatus downStatus(const QString &label, ErrorKind kind, const QString &message)
{
    NodeStatus status;
    status.node = label;
    status.error = RedisError{kind, label, message};
    status.checkedAt = QDateTime::currentDateTime();
    return status;
}

} // namespace

class TestNodeListModel : public QObject
{
    Q_OBJECT

private slots:
    void passesModelTester();
    void showsNodesBeforeFirstProbe();
    void upStatusFillsRow();
    void downStatusShowsError();
    void updateSignalsOneRowOnly();
    void countsAndLastChecked();
    void rawValuesSortNumerically();
    void appendingNodesInsertsRows();
    void replacingNodesKeepsKnownStatuses();
    void ignoresOutOfRangeUpdates();
    void errorTextDropsRepeatedKind();
    void tooltipWarnsAboutEvictableFences();
    void breakerShownWhenNotClosed();
};

void TestNodeListModel::passesModelTester()
{
    NodeListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(NodeListModel::RawValueRole);
    proxy.sort(NodeListModel::LatencyColumn);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);

    model.setNodes(threeNodes());
    model.updateStatus(0, upStatus(QStringLiteral("a"), 300us));
    model.updateStatus(1, downStatus(QStringLiteral("b"), ErrorKind::Refused, QStringLiteral("refused")));
    model.updateStatus(2, upStatus(QStringLiteral("c"), 100us));
    QList<NodeConfig> more = threeNodes();
    more.append(node(QStringLiteral("d"), 7004));
    model.setNodes(more);
    model.updateStatus(3, upStatus(QStringLiteral("d"), 200us));
    model.setNodes({node(QStringLiteral("c"), 7003)});
    model.setNodes({});
    QCOMPARE(model.rowCount(), 0);
}

void TestNodeListModel::showsNodesBeforeFirstProbe()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), int(NodeListModel::ColumnCount));
    QCOMPARE(model.index(1, NodeListModel::NodeColumn).data().toString(), QStringLiteral("b"));
    QCOMPARE(model.index(1, NodeListModel::AddressColumn).data().toString(),
             QStringLiteral("127.0.0.1:7002"));
    QCOMPARE(model.index(1, NodeListModel::StatusColumn).data().toString(), QStringLiteral("Checking…"));
    QCOMPARE(model.index(1, NodeListModel::LatencyColumn).data().toString(), QString());
    QCOMPARE(model.index(1, NodeListModel::NodeColumn).data(NodeListModel::StateRole).toInt(),
             int(NodeListModel::State::Unknown));
    QCOMPARE(model.state(1), NodeListModel::State::Unknown);
    QVERIFY(!model.status(1).has_value());
    QCOMPARE(model.headerData(NodeListModel::LatencyColumn, Qt::Horizontal).toString(),
             QStringLiteral("Latency"));
}

void TestNodeListModel::upStatusFillsRow()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    NodeStatus status = upStatus(QStringLiteral("b"), 1234us);
    status.checkedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 3, 4));
    model.updateStatus(1, status);

    auto cell = [&](int column, int role = Qt::DisplayRole) {
        return model.index(1, column).data(role);
    };
    QCOMPARE(model.state(1), NodeListModel::State::Up);
    QCOMPARE(cell(NodeListModel::StatusColumn).toString(), QStringLiteral("Up"));
    QCOMPARE(cell(NodeListModel::LatencyColumn).toString(), QStringLiteral("1.23 ms"));
    QCOMPARE(cell(NodeListModel::LatencyColumn, NodeListModel::RawValueRole).toLongLong(), 1234);
    QCOMPARE(cell(NodeListModel::VersionColumn).toString(), QStringLiteral("7.0.15"));
    QCOMPARE(cell(NodeListModel::RoleColumn).toString(), QStringLiteral("master"));
    QCOMPARE(cell(NodeListModel::CheckedColumn).toString(), QStringLiteral("12:03:04"));
    QCOMPARE(cell(NodeListModel::CheckedColumn, NodeListModel::RawValueRole).toDateTime(), status.checkedAt);
    for (int column = 0; column < NodeListModel::ColumnCount; ++column)
        QCOMPARE(cell(column, NodeListModel::StateRole).toInt(), int(NodeListModel::State::Up));
    QVERIFY(!cell(NodeListModel::StatusColumn, Qt::ForegroundRole).isValid());
    QCOMPARE(cell(NodeListModel::LatencyColumn, Qt::TextAlignmentRole).value<Qt::Alignment>(),
             Qt::AlignRight | Qt::AlignVCenter);

    NodeStatus cluster = upStatus(QStringLiteral("b"), 50ms);
    cluster.mode = QStringLiteral("cluster");
    model.updateStatus(1, cluster);
    QCOMPARE(cell(NodeListModel::RoleColumn).toString(), QStringLiteral("master (cluster)"));
    QCOMPARE(cell(NodeListModel::LatencyColumn).toString(), QStringLiteral("50.0 ms"));
    QCOMPARE(lockscope::formatLatency(250ms, QLocale()), QStringLiteral("250 ms"));
}

void TestNodeListModel::downStatusShowsError()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    model.updateStatus(2, upStatus(QStringLiteral("c"), 100us));
    model.updateStatus(2,
                       downStatus(QStringLiteral("c"), ErrorKind::Timeout, QStringLiteral("no reply in 2s")));

    auto cell = [&](int column, int role = Qt::DisplayRole) {
        return model.index(2, column).data(role);
    };
    QCOMPARE(model.state(2), NodeListModel::State::Down);
    QCOMPARE(cell(NodeListModel::StatusColumn).toString(), QStringLiteral("Timeout: no reply in 2s"));
    QVERIFY(cell(NodeListModel::StatusColumn, Qt::ForegroundRole).value<QColor>().isValid());
    QVERIFY(cell(NodeListModel::StatusColumn, Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("no reply in 2s")));
    // Values of the last successful probe are not shown as if they were current.
    QCOMPARE(cell(NodeListModel::LatencyColumn).toString(), QString());
    QCOMPARE(cell(NodeListModel::LatencyColumn, NodeListModel::RawValueRole).toLongLong(), -1);
    QCOMPARE(cell(NodeListModel::VersionColumn).toString(), QString());
    QCOMPARE(cell(NodeListModel::NodeColumn, NodeListModel::StateRole).toInt(),
             int(NodeListModel::State::Down));
    QVERIFY(!cell(NodeListModel::NodeColumn, Qt::ToolTipRole).toString().isEmpty());
}

void TestNodeListModel::updateSignalsOneRowOnly()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.updateStatus(1, upStatus(QStringLiteral("b"), 100us));
    QCOMPARE(reset.count(), 0);
    QCOMPARE(changed.count(), 1);
    const auto topLeft = changed.at(0).at(0).value<QModelIndex>();
    const auto bottomRight = changed.at(0).at(1).value<QModelIndex>();
    QCOMPARE(topLeft, model.index(1, 0));
    QCOMPARE(bottomRight, model.index(1, NodeListModel::ColumnCount - 1));
}

void TestNodeListModel::countsAndLastChecked()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    QCOMPARE(model.upCount(), 0);
    QVERIFY(model.lastChecked().isNull());

    NodeStatus first = upStatus(QStringLiteral("a"), 100us);
    first.checkedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 0, 0));
    NodeStatus second = downStatus(QStringLiteral("b"), ErrorKind::Refused, QString());
    second.checkedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 0, 5));
    NodeStatus third = upStatus(QStringLiteral("c"), 100us);
    third.checkedAt = QDateTime(QDate(2024, 5, 1), QTime(12, 0, 2));
    model.updateStatus(0, first);
    model.updateStatus(1, second);
    model.updateStatus(2, third);
    QCOMPARE(model.upCount(), 2);
    QCOMPARE(model.lastChecked(), second.checkedAt);
}

void TestNodeListModel::rawValuesSortNumerically()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    // As text "10.0 ms" < "9.00 ms" and "10.0.0" < "7.2.4"; the raw values must sort by number.
    model.updateStatus(0, upStatus(QStringLiteral("a"), 10ms, QStringLiteral("10.0.0")));
    model.updateStatus(1, upStatus(QStringLiteral("b"), 9ms, QStringLiteral("7.2.4")));
    model.updateStatus(2, downStatus(QStringLiteral("c"), ErrorKind::Refused, QString()));

    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(NodeListModel::RawValueRole);
    auto order = [&] {
        QStringList names;
        for (int row = 0; row < proxy.rowCount(); ++row)
            names << proxy.index(row, NodeListModel::NodeColumn).data().toString();
        return names.join(QLatin1Char(','));
    };
    proxy.sort(NodeListModel::LatencyColumn, Qt::AscendingOrder);
    QCOMPARE(order(), QStringLiteral("c,b,a"));
    proxy.sort(NodeListModel::VersionColumn, Qt::DescendingOrder);
    QCOMPARE(order(), QStringLiteral("a,b,c"));
    proxy.sort(NodeListModel::StatusColumn, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, NodeListModel::NodeColumn).data().toString(), QStringLiteral("c"));
}

void TestNodeListModel::appendingNodesInsertsRows()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    model.updateStatus(0, upStatus(QStringLiteral("a"), 100us));
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QList<NodeConfig> more = threeNodes();
    more << node(QStringLiteral("d"), 7004) << node(QStringLiteral("e"), 7005);
    model.setNodes(more);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 3);
    QCOMPARE(inserted.at(0).at(2).toInt(), 4);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.state(0), NodeListModel::State::Up);
    QCOMPARE(model.state(4), NodeListModel::State::Unknown);
    QCOMPARE(model.nodes(), more);
}

void TestNodeListModel::replacingNodesKeepsKnownStatuses()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    model.updateStatus(2, upStatus(QStringLiteral("c"), 100us));
    model.setNodes({node(QStringLiteral("c"), 7003), node(QStringLiteral("x"), 7009)});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.state(0), NodeListModel::State::Up);
    QCOMPARE(model.state(1), NodeListModel::State::Unknown);
    QCOMPARE(model.node(1).name, QStringLiteral("x"));
}

void TestNodeListModel::ignoresOutOfRangeUpdates()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.updateStatus(3, upStatus(QStringLiteral("d"), 100us));
    model.updateStatus(-1, upStatus(QStringLiteral("d"), 100us));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(model.upCount(), 0);
}

void TestNodeListModel::errorTextDropsRepeatedKind()
{
    QCOMPARE(NodeListModel::errorText({ErrorKind::Refused, QStringLiteral("n"),
                                       QStringLiteral("connection refused (127.0.0.1:1)")}),
             QStringLiteral("Connection refused (127.0.0.1:1)"));
    QCOMPARE(NodeListModel::errorText({ErrorKind::Timeout, QStringLiteral("n"), QString()}),
             QStringLiteral("Timeout"));
    QCOMPARE(
        NodeListModel::errorText({ErrorKind::AuthFailed, QStringLiteral("n"), QStringLiteral("WRONGPASS")}),
        QStringLiteral("Authentication failed: WRONGPASS"));
}

void TestNodeListModel::tooltipWarnsAboutEvictableFences()
{
    NodeListModel model;
    model.setNodes(threeNodes());
    NodeStatus risky = upStatus(QStringLiteral("a"), 100us);
    risky.maxmemoryPolicy = QStringLiteral("allkeys-lru");
    risky.maxmemory = 64 << 20;
    model.updateStatus(0, risky);
    NodeStatus safe = upStatus(QStringLiteral("b"), 100us);
    safe.maxmemoryPolicy = QStringLiteral("volatile-lru");
    safe.maxmemory = 64 << 20;
    model.updateStatus(1, safe);

    const QString riskyTip = model.index(0, NodeListModel::StatusColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(riskyTip.contains(
                 QStringLiteral("Warning: Fence counters can be evicted (maxmemory-policy allkeys-lru)")),
             qPrintable(riskyTip));
    const QString safeTip = model.index(1, NodeListModel::StatusColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(!safeTip.contains(QStringLiteral("evicted")), qPrintable(safeTip));
    QCOMPARE(model.index(0, NodeListModel::StatusColumn).data().toString(), QStringLiteral("Up"));
}

QTEST_MAIN(TestNodeListModel)
void TestNodeListModel::breakerShownWhenNotClosed()
{
    using lockscope::redis::BreakerState;
    using lockscope::redis::BreakerStatus;
    NodeListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setNodes(threeNodes());
    model.updateStatus(1, downStatus(QStringLiteral("b"), ErrorKind::Refused,
                                     QStringLiteral("nothing is listening on 127.0.0.1:7002")));
    auto cell = [&](int role = Qt::DisplayRole) {
        return model.index(1, NodeListModel::StatusColumn).data(role).toString();
    };
    const QString error = QStringLiteral("Connection refused: nothing is listening on 127.0.0.1:7002");
    QCOMPARE(cell(), error);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    const QDateTime failedAt = QDateTime::currentDateTime();
    BreakerStatus breaker;
    breaker.node = QStringLiteral("b");
    breaker.consecutiveFailures = 1;
    breaker.lastCause = QStringLiteral("connection refused: nothing is listening on 127.0.0.1:7002");
    breaker.lastFailureAt = failedAt;
    model.updateBreaker(1, breaker);
    QCOMPARE(changed.size(), 1);
    // Closed says nothing in the cell; the tooltip counts the failure and says when it was read.
    QCOMPARE(cell(), error);
    const QString read = QLocale().toString(failedAt.time(), QStringLiteral("HH:mm:ss"));
    QVERIFY2(cell(Qt::ToolTipRole).contains(QStringLiteral("Circuit breaker: closed, 1 of 3 failures")),
             qPrintable(cell(Qt::ToolTipRole)));
    QVERIFY2(cell(Qt::ToolTipRole)
                 .contains(QStringLiteral("Last failure (read %1): Connection refused").arg(read)),
             qPrintable(cell(Qt::ToolTipRole)));
    model.updateBreaker(1, breaker);
    QCOMPARE(changed.size(), 1); // the same again repaints nothing

    breaker.state = BreakerState::Open;
    breaker.consecutiveFailures = 3;
    breaker.openUntil = failedAt.addSecs(5);
    model.updateBreaker(1, breaker);
    QCOMPARE(changed.size(), 2);
    const QString until = QLocale().toString(breaker.openUntil.time(), QStringLiteral("HH:mm:ss"));
    QCOMPARE(cell(), QStringLiteral("Breaker open until %1 — %2").arg(until, error));
    QVERIFY2(cell(Qt::ToolTipRole)
                 .contains(QStringLiteral("Circuit breaker: open until %1 after 3 failures").arg(until)),
             qPrintable(cell(Qt::ToolTipRole)));
    QVERIFY(model.index(1, NodeListModel::StatusColumn).data(Qt::ForegroundRole).value<QColor>().isValid());
    QCOMPARE(model.breaker(1)->state, BreakerState::Open);
    QVERIFY(!model.breaker(0));

    // A node back up while its breaker is still open shows both.
    model.updateStatus(1, upStatus(QStringLiteral("b"), 100us));
    QCOMPARE(cell(), QStringLiteral("Breaker open until %1 — Up").arg(until));
    model.updateBreaker(1, BreakerStatus{});
    QCOMPARE(cell(), QStringLiteral("Up"));
    QVERIFY(!cell(Qt::ToolTipRole).contains(QStringLiteral("Circuit breaker")));
}

#include "tst_nodelistmodel.moc"
