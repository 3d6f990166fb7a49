// OperatorActions on its own, with a stand-in window context (a UI unit test: the writes
// themselves are tested against real servers in tst_mainwindow and tst_admin).

#include "operatoractions.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QMimeData>
#include <QTest>
#include <QThreadPool>
#include <QWidget>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::RawEntry;

namespace {

NodeGroup group(const QString &name, bool readOnly)
{
    NodeGroup result;
    result.name = name;
    lockscope::inspect::GroupNode node;
    node.config.name = name + QStringLiteral("-1");
    node.config.port = 1; // never contacted here
    node.readOnly = readOnly;
    result.nodes.push_back(node);
    return result;
}

LockRecord record(const QByteArray &key, const QByteArray &value)
{
    LockRecord r;
    r.key = key;
    NodeEntry entry;
    entry.node = QStringLiteral("n");
    entry.raw.type = RawEntry::Type::String;
    entry.raw.value = value;
    entry.raw.pttlMs = 5000;
    r.nodes.push_back(entry);
    r.held = 1;
    r.of = 1;
    return r;
}

} // namespace

class TestOperatorActions : public QObject
{
    Q_OBJECT

    QWidget m_window;
    QThreadPool m_pool;
    std::optional<OperatorActions::SelectedLock> m_selected;
    QByteArray m_nodeValue;
    int m_cleared = 0;

    std::unique_ptr<OperatorActions> make()
    {
        auto actions =
            std::make_unique<OperatorActions>(&m_window, &m_pool,
                                              OperatorActions::Context{
                                                  .selectedLock = [this] { return m_selected; },
                                                  .currentGroup = [] { return QString(); },
                                                  .selectedNodeValue = [this] { return m_nodeValue; },
                                                  .clearSelection = [this] { ++m_cleared; },
                                                  .selectedHolder = {},
                                              });
        actions->setParent(nullptr); // owned by the test, not the window
        return actions;
    }

private slots:
    void init()
    {
        m_selected.reset();
        m_nodeValue.clear();
    }

    // Nothing selected: only Acquire (when a group takes writes); a read-only group: the writes
    // are off and the tooltip says which node refuses them.
    void enablingFollowsSelectionAndReadOnly()
    {
        auto actions = make();
        GroupConfig config;
        config.groups = {group(QStringLiteral("rw"), false), group(QStringLiteral("ro"), true)};
        actions->setGroups(config, {});
        QVERIFY(actions->acquireAction()->isEnabled());
        for (QAction *action :
             {actions->extendAction(), actions->forceReleaseAction(), actions->copyKeyAction(),
              actions->copyValueAction(), actions->lockctlAction()})
            QVERIFY2(!action->isEnabled(), qPrintable(action->objectName()));
        QCOMPARE(actions->extendAction()->toolTip(), QStringLiteral("Select a lock first"));

        m_selected = std::make_pair(QStringLiteral("rw"), record("jobs:a", "v"));
        actions->update();
        for (QAction *action :
             {actions->extendAction(), actions->forceReleaseAction(), actions->copyKeyAction(),
              actions->copyValueAction(), actions->lockctlAction()})
            QVERIFY2(action->isEnabled(), qPrintable(action->objectName()));

        m_selected = std::make_pair(QStringLiteral("ro"), record("jobs:a", "v"));
        actions->update();
        QVERIFY(!actions->extendAction()->isEnabled());
        QVERIFY(!actions->forceReleaseAction()->isEnabled());
        QVERIFY(actions->copyKeyAction()->isEnabled());
        QCOMPARE(actions->forceReleaseAction()->toolTip(),
                 QStringLiteral("ro-1 is read-only: LockScope sends it no writes"));

        // A shortcut that raced the state: refused and said, no dialog.
        QList<QString> said;
        connect(actions.get(), &OperatorActions::event, this,
                [&](EventLogWidget::Kind, const QString &, const QString &text) { said << text; });
        actions->forceReleaseAction()->setEnabled(true);
        actions->forceReleaseAction()->trigger();
        QCOMPARE(said, QList<QString>{QStringLiteral("ro-1 is read-only: LockScope sends it no writes")});
        QCOMPARE(m_cleared, 0);

        GroupConfig readOnlyOnly;
        readOnlyOnly.groups = {group(QStringLiteral("ro"), true)};
        actions->setGroups(readOnlyOnly, {});
        QVERIFY(!actions->acquireAction()->isEnabled());
        QCOMPARE(actions->acquireAction()->toolTip(),
                 QStringLiteral("No group accepts writes (all are read-only)"));
    }

    // Keys and values are bytes: the clipboard gets the exact bytes, and as text the escaped
    // form lockctl reads back to the same bytes; never U+FFFD for a byte that is not UTF-8.
    void copiesBytesLosslessly()
    {
        auto actions = make();
        GroupConfig config;
        config.groups = {group(QStringLiteral("rw"), false)};
        actions->setGroups(config, {});
        const QByteArray key("lock:\xff\x01z", 8);
        const QByteArray value("tok\xfe\n", 5);
        m_selected = std::make_pair(QStringLiteral("rw"), record(key, value));
        actions->update();

        actions->copyKeyAction()->trigger();
        const QMimeData *data = QApplication::clipboard()->mimeData();
        QVERIFY(data);
        QCOMPARE(data->text(), QStringLiteral("lock:\\xff\\x01z"));
        QCOMPARE(data->data(QStringLiteral("application/octet-stream")), key);

        // The value of the node picked in Details, else the first node holding the key.
        actions->copyValueAction()->trigger();
        QCOMPARE(QApplication::clipboard()->mimeData()->data(QStringLiteral("application/octet-stream")),
                 value);
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("tok\\xfe\\n"));
        m_nodeValue = "other";
        actions->copyValueAction()->trigger();
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("other"));
    }
};

QTEST_MAIN(TestOperatorActions)
#include "tst_operatoractions.moc"
