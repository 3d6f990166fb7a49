// LockDetailsWidget: placeholder, the summary form, the per-node table and the raw bytes of the
// selected node; and the table + details layout at 1280x800 (a screenshot of it is saved when
// LOCKSCOPE_SCREENSHOT_DIR is set). Pure widget tests: records from real lock values.

#include "lockdetailswidget.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "rawvalueview.h"
#include "samplelocks.h"

#include <QApplication>
#include <QDir>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QToolButton>

using lockscope::inspect::LockRecord;

namespace {

const QStringList kNodes{QStringLiteral("demo-1"), QStringLiteral("demo-2"), QStringLiteral("demo-3")};

LockRecord find(const std::vector<LockRecord> &records, const QByteArray &key)
{
    for (const LockRecord &record : records) {
        if (record.key == key)
            return record;
    }
    qFatal("no sample record %s", key.constData());
}

QString nodeCell(const LockDetailsWidget &widget, int row, int column)
{
    const auto *table = widget.findChild<QTableWidget *>(QStringLiteral("nodes"));
    const QTableWidgetItem *item = table ? table->item(row, column) : nullptr;
    return item ? item->text() : QString();
}

QString text(const LockDetailsWidget &widget, const QString &name)
{
    if (const auto *label = widget.findChild<QLabel *>(name))
        return label->text();
    if (const auto *line = widget.findChild<QLineEdit *>(name))
        return line->text();
    return QStringLiteral("<no %1>").arg(name);
}

} // namespace

class TestLockDetailsWidget : public QObject
{
    Q_OBJECT

private slots:
    void placeholder();
    void showsSummary();
    void showsEveryNode();
    void rawValueOfSelectedNode();
    void hashValue();
    void sortedSetValue();
    void holdersOfAReadLockArePickedWithTheMouse();
    void waitersAreListedButNotPicked();
    void refreshKeepsSelectedNode();
    void escapedText();
    void hexDump();
    void layoutAt1280x800();
    void ttlCountsDownAndSaysWhenRead();
};

void TestLockDetailsWidget::placeholder()
{
    LockDetailsWidget widget;
    widget.resize(480, 600);
    widget.show();
    const auto *stack = widget.findChild<QStackedWidget *>();
    const auto *placeholder = widget.findChild<QLabel *>(QStringLiteral("placeholder"));
    QVERIFY(stack && placeholder);
    QCOMPARE(stack->currentWidget(), placeholder);
    QCOMPARE(placeholder->text(), QStringLiteral("Select a lock to see its details"));
    QVERIFY(!widget.hasRecord());
    QCOMPARE(widget.selectedNode(), -1);
    QCOMPARE(widget.selectedNodeValue(), QByteArray());

    const auto records = samplelocks::redlockGroup(kNodes);
    const LockRecord record = find(records, "jobs:lock:reindex");
    widget.setRecord(QStringLiteral("payments"), &record);
    QVERIFY(stack->currentWidget() != placeholder);
    widget.setRecord(QStringLiteral("payments"), nullptr);
    QCOMPARE(stack->currentWidget(), placeholder);
    QVERIFY(!widget.hasRecord());
    QCOMPARE(widget.key(), QByteArray());
}

void TestLockDetailsWidget::showsSummary()
{
    LockDetailsWidget widget;
    const auto records = samplelocks::redlockGroup(kNodes);
    const LockRecord record = find(records, "jobs:lock:nightly-report");
    widget.setRecord(QStringLiteral("payments"), &record);
    QCOMPARE(widget.key(), QByteArray("jobs:lock:nightly-report"));
    QCOMPARE(widget.group(), QStringLiteral("payments"));
    QCOMPARE(text(widget, QStringLiteral("key")), QStringLiteral("jobs:lock:nightly-report"));
    QCOMPARE(text(widget, QStringLiteral("schema")), QStringLiteral("lockscope"));
    // One owner text, as in the table: the label and the owner both.
    QVERIFY2(
        text(widget, QStringLiteral("owner")).startsWith(QStringLiteral("“nightly report” — batch-2 pid ")),
        qPrintable(text(widget, QStringLiteral("owner"))));
    QCOMPARE(text(widget, QStringLiteral("token")),
             QString::fromLatin1(samplelocks::token("jobs:lock:nightly-report")));
    QCOMPARE(text(widget, QStringLiteral("fence")), QStringLiteral("1,337"));
    QCOMPARE(text(widget, QStringLiteral("held")), QStringLiteral("3 of 3 nodes, quorum (2) reached"));
    QVERIFY2(text(widget, QStringLiteral("acquired")).contains(QStringLiteral("(held for ")),
             qPrintable(text(widget, QStringLiteral("acquired"))));
    // Counted down from the read, until a time of day, and when it was read.
    const QString ttl = text(widget, QStringLiteral("ttl"));
    QVERIFY2(ttl.contains(QStringLiteral(" left, until ")) || ttl.startsWith(QStringLiteral("ran out at ")),
             qPrintable(ttl));
    QVERIFY2(ttl.contains(QStringLiteral("read at ")), qPrintable(ttl));
    QCOMPARE(text(widget, QStringLiteral("anomalies")), QStringLiteral("none"));
    QVERIFY(text(widget, QStringLiteral("details")).contains(QStringLiteral("host: batch-2")));

    // Anomalies in words.
    const LockRecord cleanup = find(records, "jobs:lock:cleanup");
    widget.setRecord(QStringLiteral("payments"), &cleanup);
    QCOMPARE(text(widget, QStringLiteral("held")), QStringLiteral("1 of 3 nodes, quorum (2) lost"));
    QVERIFY(text(widget, QStringLiteral("anomalies")).contains(QStringLiteral("Quorum lost")));
    const LockRecord migrate = find(records, "billing:migrate");
    widget.setRecord(QStringLiteral("payments"), &migrate);
    QVERIFY(text(widget, QStringLiteral("ttl"))
                .startsWith(QStringLiteral("none: the key never expires · read at ")));
    QVERIFY(text(widget, QStringLiteral("anomalies")).contains(QStringLiteral("No TTL")));
}

void TestLockDetailsWidget::showsEveryNode()
{
    LockDetailsWidget widget;
    const auto records = samplelocks::redlockGroup(kNodes);

    const LockRecord reindex = find(records, "jobs:lock:reindex");
    widget.setRecord(QStringLiteral("payments"), &reindex);
    QCOMPARE(widget.findChild<QTableWidget *>(QStringLiteral("nodes"))->rowCount(), 3);
    for (int row = 0; row < 3; ++row)
        QCOMPARE(nodeCell(widget, row, LockDetailsWidget::NodeNameColumn), kNodes[row]);
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeStateColumn), QStringLiteral("holds"));
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodePttlColumn), QStringLiteral("4,200 ms"));
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeTypeColumn), QStringLiteral("string"));
    QVERIFY(nodeCell(widget, 0, LockDetailsWidget::NodeValueColumn).startsWith(QStringLiteral("ls1 tok=")));
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodeStateColumn), QStringLiteral("missing"));
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodePttlColumn), QString());
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodeValueColumn), QString());

    const LockRecord unreachable = find(records, "payments:settle:us");
    widget.setRecord(QStringLiteral("payments"), &unreachable);
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeValueColumn),
             QStringLiteral("LE+uzIvuP2c1vTWnEACbBw=="));
    // Short, so that the other columns keep their room; the error is in the value cell.
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodeStateColumn), QStringLiteral("unreachable"));
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodeValueColumn), QStringLiteral("connection refused"));

    const LockRecord differ = find(records, "jobs:lock:export");
    widget.setRecord(QStringLiteral("payments"), &differ);
    QCOMPARE(nodeCell(widget, 1, LockDetailsWidget::NodeStateColumn), QStringLiteral("holds"));
    QCOMPARE(nodeCell(widget, 2, LockDetailsWidget::NodeStateColumn), QStringLiteral("other holder"));
    QVERIFY(
        nodeCell(widget, 2, LockDetailsWidget::NodeValueColumn).contains(QStringLiteral("host=export-2")));

    const LockRecord noTtl = find(records, "billing:migrate");
    widget.setRecord(QStringLiteral("payments"), &noTtl);
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodePttlColumn), QStringLiteral("no TTL"));
}

void TestLockDetailsWidget::rawValueOfSelectedNode()
{
    LockDetailsWidget widget;
    widget.resize(700, 700); // wide enough for 16 bytes per line
    const auto records = samplelocks::redlockGroup(kNodes);
    const LockRecord differ = find(records, "jobs:lock:export");
    QSignalSpy selected(&widget, &LockDetailsWidget::selectedNodeChanged);
    widget.setRecord(QStringLiteral("payments"), &differ);
    // The majority holder is selected first.
    QCOMPARE(widget.selectedNode(), 0);
    QCOMPARE(widget.selectedNodeName(), QStringLiteral("demo-1"));
    QCOMPARE(widget.selectedNodeValue(), differ.nodes[0].raw.value);
    const auto *raw = widget.findChild<QPlainTextEdit *>(QStringLiteral("raw"));
    QVERIFY(raw->isReadOnly());
    // Text first; the Hex button switches to a dump of the same bytes.
    QVERIFY(!widget.showsHex());
    QCOMPARE(raw->toPlainText(), RawValueView::escapedText(differ.nodes[0].raw.value));
    QCOMPARE(raw->toPlainText(), QString::fromUtf8(differ.nodes[0].raw.value));
    widget.findChild<QToolButton *>(QStringLiteral("rawHex"))->click();
    QVERIFY(widget.showsHex());
    QCOMPARE(raw->toPlainText(), RawValueView::hexDump(differ.nodes[0].raw.value));
    QVERIFY(raw->toPlainText().startsWith(QStringLiteral("0000  6c 73 31 20 74 6f 6b 3d  ")));
    QVERIFY(text(widget, QStringLiteral("rawTitle")).contains(QStringLiteral("demo-1")));

    // Picking the other holder's row in the node table shows its bytes.
    auto *table = widget.findChild<QTableWidget *>(QStringLiteral("nodes"));
    table->setCurrentCell(2, 0);
    QCOMPARE(widget.selectedNode(), 2);
    QCOMPARE(selected.constLast().at(0).toInt(), 2);
    QCOMPARE(widget.selectedNodeValue(), differ.nodes[2].raw.value);
    QCOMPARE(raw->toPlainText(), RawValueView::hexDump(differ.nodes[2].raw.value));
    QVERIFY(differ.nodes[2].raw.value != differ.nodes[0].raw.value);

    // Missing and unreachable nodes say so.
    const LockRecord reindex = find(records, "jobs:lock:reindex");
    widget.setRecord(QStringLiteral("payments"), &reindex);
    widget.selectNode(2);
    QCOMPARE(widget.selectedNodeValue(), QByteArray());
    QCOMPARE(raw->toPlainText(), QStringLiteral("The key does not exist on demo-3."));
    const LockRecord unreachable = find(records, "payments:settle:us");
    widget.setRecord(QStringLiteral("payments"), &unreachable);
    widget.selectNode(2);
    QCOMPARE(raw->toPlainText(), QStringLiteral("demo-3 could not be read: connection refused"));
}

void TestLockDetailsWidget::hashValue()
{
    LockDetailsWidget widget;
    const auto records = samplelocks::singleNode(QStringLiteral("cache-1"));
    const LockRecord rw = find(records, "catalog:rw:pricing");
    widget.setShowsHex(true);
    widget.setRecord(QStringLiteral("cache"), &rw);
    QCOMPARE(text(widget, QStringLiteral("schema")), QStringLiteral("redisson-rwlock"));
    QCOMPARE(text(widget, QStringLiteral("holds")), QStringLiteral("held 1 time (reentrant), write mode"));
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeTypeColumn), QStringLiteral("hash"));
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeValueColumn),
             QStringLiteral("mode=write, 258ee31d-c759-4aca-b536-4c95b3e9c80a:88:write=1"));
    QCOMPARE(widget.selectedNodeValue(),
             QByteArray("mode write\n258ee31d-c759-4aca-b536-4c95b3e9c80a:88:write 1\n"));
    const QString raw = widget.findChild<QPlainTextEdit *>(QStringLiteral("raw"))->toPlainText();
    QVERIFY2(raw.contains(QStringLiteral("field mode (5 bytes):\n0000  77 72 69 74 65")), qPrintable(raw));
}

void TestLockDetailsWidget::sortedSetValue()
{
    using lockscope::inspect::NodeEntry;
    using lockscope::inspect::RawEntry;
    LockDetailsWidget widget;
    LockRecord record;
    record.key = "catalog:prices";
    record.of = 1;
    NodeEntry entry;
    entry.node = QStringLiteral("demo-1");
    entry.reachable = true;
    entry.raw.type = RawEntry::Type::Other;
    entry.raw.typeName = QStringLiteral("zset");
    entry.raw.serverTimeMs = 1'800'000'000'000;
    entry.raw.members = {{"ls1 tok=a fence=1 rw=r host=web-1", 1'800'000'004'000.0},
                         {"ls1 tok=b fence=2 rw=r host=web-2", 1'800'000'009'500.0}};
    entry.raw.pttlMs = 9500;
    record.nodes.push_back(entry);
    record.held = 1;
    widget.setRecord(QStringLiteral("cache"), &record);
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeTypeColumn), QStringLiteral("zset"));
    QCOMPARE(nodeCell(widget, 0, LockDetailsWidget::NodeValueColumn), QStringLiteral("2 members"));
    const QString raw = widget.findChild<QPlainTextEdit *>(QStringLiteral("raw"))->toPlainText();
    QVERIFY2(
        raw.contains(QStringLiteral("ls1 tok=a fence=1 rw=r host=web-1\n  score 1800000004000 (4000 ms from "
                                    "the server's time when read)")),
        qPrintable(raw));
    QVERIFY2(raw.contains(QStringLiteral("(9500 ms from")), qPrintable(raw));
    QVERIFY(text(widget, QStringLiteral("rawTitle")).contains(QStringLiteral("zset, 2 members")));
}

void TestLockDetailsWidget::holdersOfAReadLockArePickedWithTheMouse()
{
    using samplelocks::KindHolder;
    const auto readers = [](int n) {
        std::vector<KindHolder> holders;
        for (int i = 0; i < n; ++i)
            holders.push_back(
                {"reader" + QByteArray::number(i), QStringLiteral("web-%1").arg(i), 30'000 - i * 1000});
        return samplelocks::heldOn("catalog:rw", samplelocks::kindRaw(holders), {QStringLiteral("cache-1")});
    };
    LockDetailsWidget widget;
    widget.resize(420, 760);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    auto *holders = widget.findChild<QTableWidget *>(QStringLiteral("holders"));
    QVERIFY(holders);
    QSignalSpy picked(&widget, &LockDetailsWidget::selectedHolderChanged);

    const LockRecord three = readers(3);
    widget.setRecord(QStringLiteral("cache"), &three);
    QVERIFY(widget.showsHolders());
    QVERIFY(holders->isVisible());
    QCOMPARE(holders->rowCount(), 3);
    QCOMPARE(text(widget, QStringLiteral("holdersTitle")), QStringLiteral("Holders: 3"));
    QVERIFY(!widget.selectedHolder());
    // Its own TTL per reader, counted from the read.
    for (int row = 0; row < 3; ++row) {
        QCOMPARE(holders->item(row, LockDetailsWidget::HolderWhoColumn)->text(), QStringLiteral("reader"));
        QVERIFY2(
            holders->item(row, LockDetailsWidget::HolderTtlColumn)->text().endsWith(QStringLiteral(" s")),
            qPrintable(holders->item(row, LockDetailsWidget::HolderTtlColumn)->text()));
    }
    // The Holders list sits between the summary and the nodes, without covering either.
    const QWidget *box = widget.findChild<QWidget *>(QStringLiteral("holdersBox"));
    const QWidget *summary = widget.findChild<QWidget *>(QStringLiteral("summaryScroll"));
    QTRY_VERIFY2(box->geometry().top() > summary->geometry().bottom(),
                 qPrintable(QStringLiteral("summary %1..%2, holders from %3")
                                .arg(summary->geometry().top())
                                .arg(summary->geometry().bottom())
                                .arg(box->geometry().top())));

    // A click on the second reader picks it.
    picked.clear();
    QTest::mouseClick(
        holders->viewport(), Qt::LeftButton, {},
        holders->visualItemRect(holders->item(1, LockDetailsWidget::HolderOwnerColumn)).center());
    QVERIFY(!picked.isEmpty());
    const auto holder = widget.selectedHolder();
    QVERIFY(holder.has_value());
    const QByteArray token = holder->token;
    QCOMPARE(token, three.nodes[0].decoded->holders[1].token);

    // A refresh with a fourth reader keeps the pick (by token, wherever its row went).
    const LockRecord four = readers(4);
    widget.setRecord(QStringLiteral("cache"), &four);
    QCOMPARE(holders->rowCount(), 4);
    QVERIFY(widget.selectedHolder().has_value());
    QCOMPARE(widget.selectedHolder()->token, token);

    // A semaphore says its permits.
    const LockRecord pool = samplelocks::heldOn(
        "render:pool",
        samplelocks::kindRaw({{"p1", QStringLiteral("gpu-1")}, {"p2", QStringLiteral("gpu-2")}}, 5),
        {QStringLiteral("cache-1")});
    widget.setRecord(QStringLiteral("cache"), &pool);
    QCOMPARE(text(widget, QStringLiteral("holdersTitle")), QStringLiteral("Holders: 2 of 5 permits"));
    QCOMPARE(holders->item(1, LockDetailsWidget::HolderWhoColumn)->text(), QStringLiteral("permit 2"));
    QVERIFY(!widget.selectedHolder()); // another lock: nothing picked

    // A mutex has one holder: no list.
    const LockRecord mutex = samplelocks::heldOn(
        "jobs:nightly",
        samplelocks::stringRaw(samplelocks::lockscopeValue(samplelocks::token("nightly"), 4,
                                                           QStringLiteral("web-1"), 12,
                                                           QStringLiteral("main"), {}, {}),
                               20'000),
        {QStringLiteral("cache-1")});
    widget.setRecord(QStringLiteral("cache"), &mutex);
    QVERIFY(!widget.showsHolders());
    QVERIFY(!holders->isVisible());
    QVERIFY(!widget.selectedHolder());
}

void TestLockDetailsWidget::waitersAreListedButNotPicked()
{
    using lockscope::inspect::LockHolder;
    lockscope::inspect::NodeEntry entry =
        samplelocks::held(QStringLiteral("cache-1"), "jobs:fair",
                          samplelocks::stringRaw(samplelocks::lockscopeValue(samplelocks::token("holder"), 3,
                                                                             QStringLiteral("web-1"), 12,
                                                                             QStringLiteral("main"), {}, {}),
                                                 20'000));
    QVERIFY(entry.decoded);
    lockscope::inspect::DecodedLock decoded = *entry.decoded;
    decoded.kind = QStringLiteral("fair");
    decoded.queue = {LockHolder{QStringLiteral("web-2 pid 7 w1"), "waiterA", "waiterA", 9'000, -1, -1, {}},
                     LockHolder{QStringLiteral("web-3 pid 8 w2"), "waiterB", "waiterB", 9'500, -1, -1, {}}};
    entry.decoded = decoded;
    const LockRecord record = lockscope::inspect::aggregate("jobs:fair", {entry});
    LockDetailsWidget widget;
    widget.resize(420, 760);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    widget.setRecord(QStringLiteral("cache"), &record);
    auto *holders = widget.findChild<QTableWidget *>(QStringLiteral("holders"));
    QVERIFY(widget.showsHolders());
    QCOMPARE(holders->rowCount(), 3);
    QCOMPARE(text(widget, QStringLiteral("holdersTitle")), QStringLiteral("Holders: 1, 2 waiting"));
    QCOMPARE(holders->item(1, LockDetailsWidget::HolderWhoColumn)->text(), QStringLiteral("waiting 1"));
    QCOMPARE(holders->item(2, LockDetailsWidget::HolderWhoColumn)->text(), QStringLiteral("waiting 2"));
    // A click on a waiter picks nothing (it holds nothing to release); on the holder, it does.
    QTest::mouseClick(
        holders->viewport(), Qt::LeftButton, {},
        holders->visualItemRect(holders->item(2, LockDetailsWidget::HolderOwnerColumn)).center());
    QVERIFY(!widget.selectedHolder());
    QTest::mouseClick(
        holders->viewport(), Qt::LeftButton, {},
        holders->visualItemRect(holders->item(0, LockDetailsWidget::HolderOwnerColumn)).center());
    QVERIFY(widget.selectedHolder().has_value());
    QCOMPARE(widget.selectedHolder()->token, samplelocks::token("holder"));
}

void TestLockDetailsWidget::refreshKeepsSelectedNode()
{
    LockDetailsWidget widget;
    auto records = samplelocks::redlockGroup(kNodes);
    const LockRecord first = find(records, "jobs:lock:export");
    widget.setRecord(QStringLiteral("payments"), &first);
    widget.selectNode(1);
    // The same lock from the next snapshot: the operator's choice stays.
    records = samplelocks::redlockGroup(kNodes);
    const LockRecord again = find(records, "jobs:lock:export");
    widget.setRecord(QStringLiteral("payments"), &again);
    QCOMPARE(widget.selectedNode(), 1);
    // Another lock starts at its majority holder.
    const LockRecord other = find(records, "jobs:lock:reindex");
    widget.setRecord(QStringLiteral("payments"), &other);
    QCOMPARE(widget.selectedNode(), 0);
}

void TestLockDetailsWidget::escapedText()
{
    QCOMPARE(RawValueView::escapedText(QByteArray()), QString());
    QCOMPARE(RawValueView::escapedText("ls1 tok=abc fence=1"), QStringLiteral("ls1 tok=abc fence=1"));
    // Control characters, backslashes and invalid UTF-8 are escaped; valid UTF-8 stays text.
    QCOMPARE(RawValueView::escapedText(QByteArray("a\nb\t\\\x01\x7f", 7)),
             QStringLiteral("a\\nb\\t\\\\\\x01\\x7f"));
    QCOMPARE(RawValueView::escapedText("caf\xc3\xa9"), QStringLiteral("caf\u00e9"));
    QCOMPARE(RawValueView::escapedText(QByteArray("\xff\xc3", 2)), QStringLiteral("\\xff\\xc3"));
    QCOMPARE(RawValueView::escapedText(QByteArray("\0z", 2)), QStringLiteral("\\x00z"));
}

void TestLockDetailsWidget::hexDump()
{
    QCOMPARE(RawValueView::hexDump(QByteArray()), QString());
    QCOMPARE(RawValueView::hexDump(QByteArray("ab\x01", 3)),
             QStringLiteral("0000  61 62 01                                          ab."));
    const QString twoLines = RawValueView::hexDump(QByteArray("0123456789abcdefXYZ"));
    QCOMPARE(twoLines.split(QLatin1Char('\n')).size(), 2);
    QVERIFY(twoLines.startsWith(
        QStringLiteral("0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef\n")));
    QVERIFY(twoLines.endsWith(QStringLiteral("0010  58 59 5a") + QString(13 * 3 + 2, QLatin1Char(' ')) +
                              QStringLiteral(" XYZ")));
}

void TestLockDetailsWidget::layoutAt1280x800()
{
    LockTableModel model;
    model.applyDelta(QStringLiteral("payments"), samplelocks::redlockGroup(kNodes), {}, /*replaceAll=*/true);
    model.applyDelta(QStringLiteral("cache"), samplelocks::singleNode(QStringLiteral("cache-1")), {}, true);
    model.finishApplying();
    LockFilterProxy proxy;
    proxy.setSourceModel(&model);

    QSplitter splitter;
    auto *view = new QTableView;
    view->setModel(&proxy);
    view->setSortingEnabled(true);
    view->sortByColumn(LockTableModel::Key, Qt::AscendingOrder);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->horizontalHeader()->setStretchLastSection(true);
    view->setColumnHidden(LockTableModel::Group, false);
    auto *details = new LockDetailsWidget;
    splitter.addWidget(view);
    splitter.addWidget(details);
    splitter.setStretchFactor(0, 3);
    splitter.setStretchFactor(1, 2);
    splitter.resize(1280, 800);
    splitter.setSizes({820, 460});
    splitter.show();
    view->resizeColumnsToContents();
    view->setColumnWidth(LockTableModel::Owner, std::min(view->columnWidth(LockTableModel::Owner), 220));
    QVERIFY(QTest::qWaitForWindowExposed(&splitter));

    const QModelIndex row =
        proxy.mapFromSource(model.indexFor(QStringLiteral("payments"), "jobs:lock:export"));
    view->selectRow(row.row());
    QCOMPARE(proxy.group(row), QStringLiteral("payments"));
    details->setRecord(proxy.group(row), proxy.record(row));
    QCOMPARE(details->key(), QByteArray("jobs:lock:export"));
    QApplication::processEvents();

    // Nothing clipped in the form: every caption gets its full width, the details pane keeps a
    // usable width.
    QVERIFY(details->width() >= 400);
    const auto *form = details->findChild<QFormLayout *>(QStringLiteral("form"));
    QVERIFY(form);
    for (int i = 0; i < form->rowCount(); ++i) {
        auto *caption = qobject_cast<QLabel *>(form->itemAt(i, QFormLayout::LabelRole)->widget());
        QVERIFY(caption);
        if (caption->isVisible())
            QVERIFY2(caption->width() >= caption->sizeHint().width(), qPrintable(caption->text()));
    }
    const auto *table = details->findChild<QTableWidget *>(QStringLiteral("nodes"));
    QVERIFY(table->height() >= table->horizontalHeader()->height() + 3 * table->rowHeight(0));

    const QString dir = qEnvironmentVariable("LOCKSCOPE_SCREENSHOT_DIR");
    if (!dir.isEmpty()) {
        QVERIFY(splitter.grab().save(QDir(dir).filePath(QStringLiteral("locktable.png"))));
        // The same with a dark palette: the TTL, quorum and anomaly colours must stay readable.
        const QPalette light = QApplication::palette();
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
        dark.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
        dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
        dark.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
        dark.setColor(QPalette::ButtonText, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
        dark.setColor(QPalette::HighlightedText, Qt::white);
        dark.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
        QApplication::setPalette(dark);
        details->setRecord(QStringLiteral("payments"), proxy.lockModel()->record(proxy.mapToSource(row)));
        QApplication::processEvents();
        QVERIFY(splitter.grab().save(QDir(dir).filePath(QStringLiteral("locktable-dark.png"))));
        QApplication::setPalette(light);
    }
}

// The TTL is counted down from the read, every second, with its expiry as a time of day and the
// time it was read; a lock the last refresh could not confirm says so.
void TestLockDetailsWidget::ttlCountsDownAndSaysWhenRead()
{
    LockDetailsWidget widget;
    widget.resize(480, 600);
    widget.show();
    auto records = samplelocks::redlockGroup(kNodes);
    LockRecord record = find(records, "jobs:lock:nightly-report");
    record.readAt = QDateTime::currentDateTimeUtc();
    record.readAtSteady = std::chrono::steady_clock::now() - std::chrono::seconds(3);
    widget.setRecord(QStringLiteral("payments"), &record);
    const QString expiry = QLocale().toString(record.readAt.addMSecs(record.minPttlMs).toLocalTime().time(),
                                              QStringLiteral("HH:mm:ss"));
    const QString first = text(widget, QStringLiteral("ttl"));
    QVERIFY2(first.contains(QStringLiteral(" left, until ") + expiry), qPrintable(first));
    // 9.5 s read 3 s ago (a little less on a slow machine)
    QVERIFY2(first.startsWith(QStringLiteral("6.")) || first.startsWith(QStringLiteral("5.")),
             qPrintable(first));
    // A second later the text moved on its own.
    QTRY_VERIFY_WITH_TIMEOUT(text(widget, QStringLiteral("ttl")) != first, 3000);

    const QDateTime later = record.readAt.addSecs(60);
    widget.setReadState(later, false);
    QVERIFY(text(widget, QStringLiteral("ttl"))
                .contains(QStringLiteral("read at ") +
                          QLocale().toString(later.toLocalTime().time(), QStringLiteral("HH:mm:ss"))));
    widget.setReadState(later, true, QStringLiteral("node0: Connection timed out"));
    const QString stale = text(widget, QStringLiteral("ttl"));
    QVERIFY2(stale.contains(QStringLiteral("not confirmed since (node0: Connection timed out)")),
             qPrintable(stale));
    QVERIFY2(
        stale.contains(QStringLiteral("read at ") +
                       QLocale().toString(record.readAt.toLocalTime().time(), QStringLiteral("HH:mm:ss"))),
        qPrintable(stale));
}

QTEST_MAIN(TestLockDetailsWidget)
#include "tst_lockdetailswidget.moc"
