#include "models/nodelistmodel.h"
#include "models/nodetreemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace std::chrono_literals;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
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

NodeGroup group(const QString &name, const QList<NodeConfig> &nodes)
{
    NodeGroup result;
    result.name = name;
    for (const NodeConfig &config : nodes) {
        lockscope::inspect::GroupNode member;
        member.config = config;
        result.nodes.push_back(member);
    }
    return result;
}

NodeStatus upStatus(std::chrono::microseconds latency)
{
    NodeStatus status;
    status.reachable = true;
    status.latency = latency;
    status.version = QStringLiteral("7.0.15");
    status.role = QStringLiteral("master");
    status.checkedAt = QDateTime::currentDateTime();
    return status;
}

NodeStatus downStatus(const QString &message)
{
    NodeStatus status;
    status.error = RedisError{ErrorKind::Refused, QStringLiteral("n"), message};
    status.checkedAt = QDateTime::currentDateTime();
    return status;
}

} // namespace

/// The node panel's tree over the node list: structure, a shared node's status in every group
/// that has it, decorations and tooltips; under QAbstractItemModelTester throughout.
class TestNodeTreeModel : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        m_nodes = std::make_unique<NodeListModel>();
        m_tree = std::make_unique<NodeTreeModel>(m_nodes.get());
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_tree.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        // Two groups sharing node b: three distinct nodes.
        const NodeConfig a = node(QStringLiteral("a"), 7001);
        const NodeConfig b = node(QStringLiteral("b"), 7002);
        const NodeConfig c = node(QStringLiteral("c"), 7003);
        m_config.groups = {group(QStringLiteral("orders"), {a, b, c}), group(QStringLiteral("cache"), {b})};
        m_config.groups[0].nodes[0].production = true;
        m_config.groups[0].nodes[0].readOnly = true;
        m_config.groups[0].nodes[0].color = QStringLiteral("#d04040");
        m_nodes->setNodes({a, b, c});
        m_tree->setGroups(m_config);
    }

    void cleanup()
    {
        m_tester.reset();
        m_tree.reset();
        m_nodes.reset();
    }

    void structure()
    {
        QCOMPARE(m_tree->rowCount(), 3);
        QCOMPARE(m_tree->allGroupsIndex().data().toString(), QStringLiteral("All groups"));
        QCOMPARE(m_tree->allGroupsIndex().data(NodeTreeModel::GroupNameRole).toString(), QString());
        QCOMPARE(m_tree->rowCount(m_tree->allGroupsIndex()), 0);
        const QModelIndex orders = m_tree->index(1, 0);
        QCOMPARE(orders.data().toString(), QStringLiteral("orders"));
        QVERIFY(orders.data(Qt::FontRole).value<QFont>().bold());
        QVERIFY2(orders.data(Qt::ToolTipRole)
                     .toString()
                     .contains(QStringLiteral("Redlock set of 3 nodes, quorum 2")),
                 qPrintable(orders.data(Qt::ToolTipRole).toString()));
        QCOMPARE(m_tree->rowCount(orders), 3);
        const QModelIndex cache = m_tree->index(2, 0);
        QCOMPARE(m_tree->rowCount(cache), 1);
        QVERIFY(cache.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Single node")));
        // Node rows: their group, their row in the node list, badges in the name.
        const QModelIndex a = m_tree->index(0, 0, orders);
        QCOMPARE(a.parent(), orders);
        QCOMPARE(a.data(NodeTreeModel::GroupNameRole).toString(), QStringLiteral("orders"));
        QCOMPARE(a.data(NodeTreeModel::NodeRowRole).toInt(), 0);
        QCOMPARE(a.data().toString(), QStringLiteral("a  [PROD] [RO]"));
        QVERIFY(a.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Read-only")));
        QVERIFY(a.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Production")));
        QCOMPARE(m_tree->index(0, 0, cache).data(NodeTreeModel::NodeRowRole).toInt(), 1);
        QCOMPARE(m_tree->index(0, 0, cache).data().toString(), QStringLiteral("b"));
        // Before the first probe: checking, no latency, a dot all the same.
        QVERIFY(a.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Checking")));
        QCOMPARE(a.siblingAtColumn(NodeTreeModel::LatencyColumn).data().toString(), QString());
        QVERIFY(!a.data(Qt::DecorationRole).value<QIcon>().isNull());
    }

    void sharedNodeChangesInEveryGroup()
    {
        QSignalSpy changed(m_tree.get(), &QAbstractItemModel::dataChanged);
        m_nodes->updateStatus(1, upStatus(420us)); // node b, in both groups
        QCOMPARE(changed.size(), 2);
        const QModelIndex inOrders = m_tree->index(1, 0, m_tree->index(1, 0));
        const QModelIndex inCache = m_tree->index(0, 0, m_tree->index(2, 0));
        for (const QModelIndex &b : {inOrders, inCache}) {
            QCOMPARE(b.siblingAtColumn(NodeTreeModel::LatencyColumn).data().toString(),
                     QStringLiteral("0.42 ms"));
            QVERIFY2(b.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Redis 7.0.15, master")),
                     qPrintable(b.data(Qt::ToolTipRole).toString()));
        }
        const QList<QVariant> first = changed.front();
        QCOMPARE(first.at(0).toModelIndex().column(), int(NodeTreeModel::NameColumn));
        QCOMPARE(first.at(1).toModelIndex().column(), int(NodeTreeModel::LatencyColumn));

        changed.clear();
        m_nodes->updateStatus(2, downStatus(QStringLiteral("Connection refused")));
        QCOMPARE(changed.size(), 1);
        const QModelIndex c = m_tree->index(2, 0, m_tree->index(1, 0));
        QCOMPARE(c.siblingAtColumn(NodeTreeModel::LatencyColumn).data().toString(), QStringLiteral("down"));
        QVERIFY(c.siblingAtColumn(NodeTreeModel::LatencyColumn).data(Qt::ForegroundRole).isValid());
        QVERIFY2(c.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Down: ")),
                 qPrintable(c.data(Qt::ToolTipRole).toString()));
    }

    void nodeListResetRemaps()
    {
        // The node list changes order under the tree (a new configuration): every node row
        // still shows its own node.
        m_nodes->setNodes({node(QStringLiteral("c"), 7003), node(QStringLiteral("b"), 7002),
                           node(QStringLiteral("a"), 7001)});
        const QModelIndex a = m_tree->index(0, 0, m_tree->index(1, 0));
        QCOMPARE(a.data(NodeTreeModel::NodeRowRole).toInt(), 2);
        m_nodes->updateStatus(2, upStatus(1500us));
        QCOMPARE(a.siblingAtColumn(NodeTreeModel::LatencyColumn).data().toString(),
                 QStringLiteral("1.50 ms"));
    }

    void newGroupsReset()
    {
        QSignalSpy reset(m_tree.get(), &QAbstractItemModel::modelReset);
        GroupConfig one;
        one.groups = {group(QStringLiteral("solo"), {node(QStringLiteral("a"), 7001)})};
        m_tree->setGroups(one);
        QCOMPARE(reset.size(), 1);
        QCOMPARE(m_tree->rowCount(), 2);
        m_tree->setGroups({});
        QCOMPARE(m_tree->rowCount(), 1); // "All groups" only
    }

private:
    std::unique_ptr<NodeListModel> m_nodes;
    std::unique_ptr<NodeTreeModel> m_tree;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
    GroupConfig m_config;
};

QTEST_MAIN(TestNodeTreeModel)
#include "tst_nodetreemodel.moc"
