#include "lockview.h"

#include "lockheaderview.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "util/displaytext.h"
#include "util/glob.h"
#include "viewstyle.h"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace {

/// Elides on the right: for text whose start says the most (the owner column leads with the
/// service's label), where the table's middle elision would cut the name itself.
class ElideRightDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = Qt::ElideRight;
    }
};

/// The lock table. A selected lock that leaves it (released, expired, filtered out) leaves
/// nothing selected: in single-selection mode QAbstractItemView selects the next row instead,
/// and Del would then act on a lock the operator never chose.
class LockTableView : public QTableView
{
public:
    using QTableView::QTableView;

protected:
    void rowsAboutToBeRemoved(const QModelIndex &parent, int start, int end) override
    {
        const QModelIndex current = currentIndex();
        if (current.isValid() && current.parent() == parent && start <= current.row() && current.row() <= end)
            selectionModel()->clear();
        QTableView::rowsAboutToBeRemoved(parent, start, end);
    }
};

} // namespace

LockView::LockView(LockTableModel *model, LockFilterProxy *proxy,
                   const lockscope::inspect::SchemaRegistry &registry, QWidget *parent)
    : QWidget(parent), m_model(model), m_proxy(proxy)
{
    m_filter = new QLineEdit;
    m_filter->setObjectName(QStringLiteral("lockFilter"));
    m_filter->setPlaceholderText(tr("Filter keys, owners and tokens (glob: jobs:*)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &LockFilterProxy::setFilterText);
    connect(m_filter, &QLineEdit::textChanged, this, &LockView::updateHint);

    m_schemaFilter = new QComboBox;
    m_schemaFilter->setObjectName(QStringLiteral("schemaFilter"));
    m_schemaFilter->addItem(tr("All schemas"), QString());
    for (const auto &schema : registry.schemas())
        m_schemaFilter->addItem(schema->displayName(), schema->id());
    m_schemaFilter->addItem(tr("Unrecognised keys (raw)"),
                            QString::fromLatin1(LockFilterProxy::UnrecognisedSchema));
    m_schemaFilter->setItemData(
        m_schemaFilter->count() - 1,
        tr("Keys whose name says lock but whose value no lock format reads: locks of a "
           "library LockScope does not know, shown raw"),
        Qt::ToolTipRole);
    m_schemaFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_schemaFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_proxy->setSchemaFilter(m_schemaFilter->currentData().toString()); });

    m_anomaliesOnly = new QCheckBox(tr("Anomalies only"));
    m_anomaliesOnly->setObjectName(QStringLiteral("anomaliesOnly"));
    connect(m_anomaliesOnly, &QCheckBox::toggled, m_proxy, &LockFilterProxy::setAnomaliesOnly);

    auto *filterBar = new QHBoxLayout;
    filterBar->setContentsMargins(0, 0, 0, 0);
    filterBar->addWidget(m_filter, 1);
    filterBar->addWidget(m_schemaFilter);
    filterBar->addWidget(m_anomaliesOnly);

    m_table = new LockTableView(this);
    m_table->setObjectName(QStringLiteral("lockTable"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_header = new LockHeaderView(m_table);
    useCellMargins(m_table, m_header);
    // Names read from their start (a group, a schema, a kind, the owner's label); keys keep the middle
    // elision (they share prefixes; their ends tell them apart).
    for (const int column :
         {LockTableModel::Group, LockTableModel::Schema, LockTableModel::Kind, LockTableModel::Owner})
        m_table->setItemDelegateForColumn(column, new ElideRightDelegate(m_table));
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    // The token is in Details and in the tooltip of every key, the fence in Details; as columns
    // they take the room the key, the kind and the owner need at 1280x800. The column menu shows
    // them.
    m_table->setColumnHidden(LockTableModel::Token, true);
    m_table->setColumnHidden(LockTableModel::Fence, true);
    m_table->viewport()->installEventFilter(this);
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    m_table->setColumnWidth(LockTableModel::Group, em * 7);
    m_table->setColumnWidth(LockTableModel::Key, em * 12);
    m_table->setColumnWidth(LockTableModel::Schema, em * 7);
    m_table->setColumnWidth(LockTableModel::Kind, em * 6);
    m_table->setColumnWidth(LockTableModel::Owner, em * 11);
    m_table->setColumnWidth(LockTableModel::Ttl, em * 5);
    m_table->setColumnWidth(LockTableModel::Held, em * 4);
    m_table->setColumnWidth(LockTableModel::Fence, em * 4);
    m_table->setColumnWidth(LockTableModel::Token, em * 6);
    m_table->setSortingEnabled(true);
    m_header->setSortIndicator(LockTableModel::Key, Qt::AscendingOrder);
    // The countdown changes the TTL and age texts only: repaint those columns (no model signal
    // per row).
    connect(m_model, &LockTableModel::countdownTicked, this, [this] {
        for (const int column : {LockTableModel::Ttl, LockTableModel::Age}) {
            const int x = m_table->columnViewportPosition(column);
            if (x >= 0 && !m_table->isColumnHidden(column))
                m_table->viewport()->update(x, 0, m_table->columnWidth(column),
                                            m_table->viewport()->height());
        }
    });
    auto *pageLayout = new QVBoxLayout(this);
    pageLayout->setContentsMargins(6, 6, 6, 0);
    pageLayout->addLayout(filterBar);
    pageLayout->addWidget(m_table, 1);

    // A mouse press makes the row current before it selects it: on currentRowChanged alone the
    // clicked lock was not selected yet, and every action stayed disabled. A model reset clears
    // the selection without a signal.
    QItemSelectionModel *selection = m_table->selectionModel();
    connect(selection, &QItemSelectionModel::currentRowChanged, this, &LockView::selectedLockChanged);
    connect(selection, &QItemSelectionModel::selectionChanged, this, &LockView::selectedLockChanged);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LockView::selectedLockChanged);
    // The selected lock is followed through refreshes: at most once per event-loop turn (a
    // refresh applies thousands of changes), and only when its row was touched or rows left
    // (on a refresh and on a filter change).
    m_selectionTouched.setSingleShot(true);
    m_selectionTouched.setInterval(0);
    connect(&m_selectionTouched, &QTimer::timeout, this, &LockView::selectedLockChanged);
    connect(m_model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &topLeft, const QModelIndex &bottomRight) {
                const int row = selectedRow();
                if (row >= 0 && topLeft.row() <= row && row <= bottomRight.row())
                    m_selectionTouched.start();
            });
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, [this] { m_selectionTouched.start(); });
    // What the counts below the table say.
    connect(m_model, &LockTableModel::countsChanged, this, &LockView::countsChanged);
    for (const auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_proxy, signal, this, &LockView::countsChanged);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LockView::countsChanged);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &LockView::countsChanged);

    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_table->indexAt(pos).isValid() || m_contextActions.isEmpty())
            return;
        QMenu menu(this);
        for (QAction *action : std::as_const(m_contextActions)) {
            if (action)
                menu.addAction(action);
            else
                menu.addSeparator();
        }
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table, &QTableView::doubleClicked, this, &LockView::lockActivated);
}

int LockView::selectedRow() const
{
    // The current row when it is selected: a row that only has the keyboard focus, after Tab,
    // is not a choice yet.
    const QModelIndex current = m_table->selectionModel()->currentIndex();
    if (!current.isValid() || !m_table->selectionModel()->isRowSelected(current.row(), current.parent()))
        return -1;
    return m_proxy->mapToSource(current).row();
}

std::optional<std::pair<QString, lockscope::inspect::LockRecord>> LockView::selectedLock() const
{
    const int row = selectedRow();
    const lockscope::inspect::LockRecord *record = row >= 0 ? m_model->record(row) : nullptr;
    if (!record)
        return std::nullopt;
    return std::make_pair(m_model->group(row), *record);
}

bool LockView::selectLock(const QString &group, const QByteArray &key)
{
    const QModelIndex index = m_proxy->mapFromSource(m_model->indexFor(group, key));
    if (!index.isValid())
        return false;
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                          QItemSelectionModel::Rows);
    m_table->scrollTo(index);
    return true;
}

void LockView::clearSelection()
{
    m_table->selectionModel()->clear();
}

void LockView::setUnlisted(const QString &group, std::vector<QByteArray> keys, quint64 count)
{
    m_unlisted.insert(group, Unlisted{std::move(keys), count});
}

void LockView::setHasGroups(bool hasGroups)
{
    m_hasGroups = hasGroups;
}

bool LockView::eventFilter(QObject *watched, QEvent *event)
{
    // The hint is laid over the viewport: it follows its size.
    if (watched == m_table->viewport() && event->type() == QEvent::Resize && m_hint && m_hint->isVisible())
        QTimer::singleShot(0, this, &LockView::updateHint);
    return QWidget::eventFilter(watched, event);
}

void LockView::updateHint()
{
    if (!m_hint) {
        m_hint = new QLabel(m_table->viewport());
        m_hint->setObjectName(QStringLiteral("tableHint"));
        m_hint->setWordWrap(true);
        m_hint->setAlignment(Qt::AlignCenter);
        m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_hint->setForegroundRole(QPalette::PlaceholderText);
    }
    const bool empty = m_proxy->rowCount() == 0 && m_hasGroups && !m_model->isApplying();
    if (!empty || m_unlisted.isEmpty()) { // nothing scanned yet: no verdict
        m_hint->hide();
        return;
    }
    const QString filter = m_filter->text().trimmed();
    QString text;
    if (m_model->rowCount() == 0)
        text = tr("No locks in the configured groups.");
    else
        text =
            filter.isEmpty() ? tr("No lock matches the filters.") : tr("No lock matches “%1”.").arg(filter);
    // Keys the scans read but did not list: say so when they match, so that "no lock" is not
    // mistaken for "no such key".
    quint64 scannedUnlisted = 0;
    qsizetype matching = 0;
    QStringList examples;
    const bool glob = filter.contains(QLatin1Char('*')) || filter.contains(QLatin1Char('?')) ||
                      filter.contains(QLatin1Char('['));
    const QByteArray pattern = filter.toUtf8();
    for (auto it = m_unlisted.cbegin(); it != m_unlisted.cend(); ++it) {
        if (!m_proxy->groupFilter().isEmpty() && it.key() != m_proxy->groupFilter())
            continue;
        scannedUnlisted += it->count;
        if (filter.isEmpty())
            continue;
        for (const QByteArray &key : it->keys) {
            const bool hit = glob ? lockscope::globMatch(pattern, key)
                                  : lockscope::displayText(key).contains(filter, Qt::CaseInsensitive);
            if (!hit)
                continue;
            ++matching;
            if (examples.size() < 3)
                examples << lockscope::displayText(key);
        }
    }
    if (matching > 0) {
        text +=
            QStringLiteral("<br><br>") +
            (matching == 1 ? tr("1 scanned key matches it, but no lock format recognises it, so it is not "
                                "listed (%1).")
                                 .arg(examples.join(QStringLiteral(", ")).toHtmlEscaped())
                           : tr("%1 scanned keys match it, but no lock format recognises them, so they are "
                                "not listed (%2).")
                                 .arg(QLocale().toString(matching),
                                      examples.join(QStringLiteral(", ")).toHtmlEscaped())) +
            QStringLiteral("<br>") +
            tr("To see them raw: <code>lockctl list --match '%1'</code>")
                .arg((glob ? filter : QStringLiteral("*%1*").arg(filter)).toHtmlEscaped());
    } else if (scannedUnlisted > 0 && m_model->rowCount() == 0) {
        text += QStringLiteral("<br><br>") +
                tr("%1 other keys were scanned; none is a lock a known format (or a lock-like key name) "
                   "identifies.")
                    .arg(QLocale().toString(scannedUnlisted));
    }
    m_hint->setText(text);
    const QRect area = m_table->viewport()->rect().adjusted(24, 24, -24, -24);
    m_hint->setGeometry(area.x(), area.y(), area.width(),
                        std::min(area.height(), 10 * fontMetrics().lineSpacing()));
    m_hint->show();
}
