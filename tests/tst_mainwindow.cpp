#include "mainwindow.h"
#include "nodelistmodel.h"
#include "redis/localserver.h"

#include <QAbstractItemModel>
#include <QElapsedTimer>
#include <QLabel>
#include <QStackedWidget>
#include <QTableView>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace std::chrono_literals;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::NodeConfig;

namespace {

constexpr int ProbeTimeoutMs = 10'000;

/// The node row as the user sees it, read through the table view's own model.
struct NodeRow
{
    QAbstractItemModel *model = nullptr;
    int row = 0;

    QString text(int column) const { return model->index(row, column).data().toString(); }
    NodeListModel::State state() const
    {
        return NodeListModel::State(
            model->index(row, NodeListModel::NodeColumn).data(NodeListModel::StateRole).toInt());
    }
};

bool logHas(const QTreeWidget *log, const QString &node, const QString &prefix)
{
    for (int i = 0; i < log->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = log->topLevelItem(i);
        if (item->text(1) == node && item->text(2).startsWith(prefix))
            return true;
    }
    return false;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void showsEmptyStateWithoutNodes();
    void nodeGoesUpDownAndUpAgain();
    void unreachableNodeShowsErrorAtOnce();
    void pausedNodeNeverBlocksTheGui();

private:
    NodeConfig startServer();

    std::unique_ptr<LocalRedisServer> m_server;
    std::unique_ptr<MainWindow> m_window;
    QTableView *m_table = nullptr;
    QTreeWidget *m_log = nullptr;
    QLabel *m_summary = nullptr;
};

NodeConfig TestMainWindow::startServer()
{
    auto server = LocalRedisServer::start();
    if (!server)
        qFatal("cannot start redis-server: %s", qPrintable(server.error().toString()));
    m_server = std::move(*server);
    NodeConfig config = m_server->nodeConfig();
    config.name = QStringLiteral("test-node");
    config.connectTimeout = 500ms;
    config.commandTimeout = 500ms;
    return config;
}

void TestMainWindow::init()
{
    m_window = std::make_unique<MainWindow>();
    m_window->setRefreshInterval(200ms);
    m_window->show();
    m_table = m_window->findChild<QTableView *>(QStringLiteral("nodeTable"));
    m_log = m_window->findChild<QTreeWidget *>(QStringLiteral("eventLog"));
    m_summary = m_window->findChild<QLabel *>(QStringLiteral("statusSummary"));
    QVERIFY(m_table);
    QVERIFY(m_log);
    QVERIFY(m_summary);
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_server.reset();
}

void TestMainWindow::showsEmptyStateWithoutNodes()
{
    auto *stack = m_window->findChild<QStackedWidget *>();
    auto *empty = m_window->findChild<QLabel *>(QStringLiteral("emptyStateLabel"));
    QVERIFY(stack);
    QVERIFY(empty);
    QCOMPARE(stack->currentWidget(), empty);
    QVERIFY(empty->text().contains(QStringLiteral("--demo")));
    QCOMPARE(m_summary->text(), QStringLiteral("No nodes"));
    QCOMPARE(m_window->windowTitle(), QStringLiteral("LockScope"));
}

void TestMainWindow::nodeGoesUpDownAndUpAgain()
{
    const NodeConfig config = startServer();
    m_window->setNodes({config});
    QVERIFY(m_table->isVisible());
    const NodeRow row{m_table->model(), 0};
    QCOMPARE(row.text(NodeListModel::NodeColumn), QStringLiteral("test-node"));
    QCOMPARE(row.text(NodeListModel::AddressColumn), config.address());

    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Up, ProbeTimeoutMs);
    QCOMPARE(row.text(NodeListModel::StatusColumn), QStringLiteral("Up"));
    QVERIFY2(row.text(NodeListModel::VersionColumn).startsWith(QLatin1Char('7')),
             qPrintable(row.text(NodeListModel::VersionColumn)));
    QCOMPARE(row.text(NodeListModel::RoleColumn), QStringLiteral("master"));
    QVERIFY(row.text(NodeListModel::LatencyColumn).endsWith(QStringLiteral(" ms")));
    QVERIFY(!row.text(NodeListModel::CheckedColumn).isEmpty());
    QVERIFY2(m_summary->text().startsWith(QStringLiteral("1 of 1 node up · last check ")),
             qPrintable(m_summary->text()));
    QVERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Up")));

    m_server->kill();
    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Down, ProbeTimeoutMs);
    const QString error = row.text(NodeListModel::StatusColumn);
    QVERIFY2(!error.isEmpty() && error != QStringLiteral("Up") && error != QStringLiteral("Down"),
             qPrintable(error));
    QCOMPARE(row.text(NodeListModel::VersionColumn), QString());
    QVERIFY2(m_summary->text().startsWith(QStringLiteral("0 of 1 node up")), qPrintable(m_summary->text()));
    QTRY_VERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Went down: ")));

    QVERIFY(m_server->restart().has_value());
    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Up, ProbeTimeoutMs);
    QTRY_VERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Came back up")));
}

void TestMainWindow::unreachableNodeShowsErrorAtOnce()
{
    // A port nobody listens on: take a server's port, then stop the server.
    const NodeConfig config = startServer();
    m_server->kill();
    m_window->setNodes({config});
    const NodeRow row{m_table->model(), 0};
    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Down, ProbeTimeoutMs);
    QVERIFY2(row.text(NodeListModel::StatusColumn).contains(QStringLiteral("refused"), Qt::CaseInsensitive),
             qPrintable(row.text(NodeListModel::StatusColumn)));
    QVERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Down: ")));
}

void TestMainWindow::pausedNodeNeverBlocksTheGui()
{
    const NodeConfig config = startServer();
    m_window->setNodes({config});
    const NodeRow row{m_table->model(), 0};
    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Up, ProbeTimeoutMs);

    QVERIFY(m_server->pause());
    // Probes of the paused node now block for the command timeout, on the monitor thread.
    // The GUI event loop must keep turning meanwhile.
    QElapsedTimer clock;
    qint64 last = 0;
    qint64 longestGap = 0;
    int ticks = 0;
    QTimer ticker;
    ticker.setInterval(10);
    connect(&ticker, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        longestGap = std::max(longestGap, now - last);
        last = now;
        ++ticks;
    });
    clock.start();
    ticker.start();
    QTRY_VERIFY_WITH_TIMEOUT(row.state() == NodeListModel::State::Down, ProbeTimeoutMs);
    ticker.stop();
    // The probe blocked for a whole command timeout; a GUI thread that waited on it would
    // have turned its event loop a handful of times at most. Stall figures are reported, not
    // asserted: timing targets belong in benchmarks, not on a noisy CI machine.
    qInfo("GUI event loop: %d ticks over %lld ms, longest gap %lld ms", ticks, clock.elapsed(), longestGap);
    QVERIFY2(ticks >= 10, qPrintable(QStringLiteral("the GUI event loop turned only %1 times").arg(ticks)));
    QVERIFY2(row.text(NodeListModel::StatusColumn).contains(QStringLiteral("Timeout"), Qt::CaseInsensitive),
             qPrintable(row.text(NodeListModel::StatusColumn)));
    QVERIFY(m_server->resume());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
