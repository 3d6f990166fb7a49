#include "lockdetailswidget.h"

#include "locktext.h"
#include "models/locktablemodel.h"
#include "rawvalueview.h"
#include "themecolors.h"
#include "util/quorum.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QScrollArea>
#include <QScrollBar>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

using lockscope::inspect::LockHolder;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::RawEntry;

namespace {

QLabel *valueLabel(const QString &objectName, bool wrap = false)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setTextFormat(Qt::PlainText);
    label->setWordWrap(wrap);
    // Long owners and details wrap or scroll with the pane instead of widening it.
    // (A wrapping label's height depends on its width: keep that in the policy, which
    // setSizePolicy() would otherwise reset, so the pane reserves the wrapped lines.)
    QSizePolicy policy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    policy.setHeightForWidth(wrap);
    label->setSizePolicy(policy);
    return label;
}

QLineEdit *selectableLine(const QString &objectName)
{
    auto *line = new QLineEdit;
    line->setObjectName(objectName);
    line->setReadOnly(true);
    line->setFrame(false);
    line->setFocusPolicy(Qt::ClickFocus);
    QPalette palette = line->palette();
    palette.setColor(QPalette::Base, Qt::transparent);
    line->setPalette(palette);
    line->setMinimumWidth(40);
    return line;
}

QLabel *sectionTitle(const QString &text, const QString &objectName)
{
    auto *label = new QLabel(text);
    label->setObjectName(objectName);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    return label;
}

/// Printable text of a value, non-printable bytes as '·', cut at `limit` characters.
/// The start of a value for a table cell: escaped (\xNN), bounded.
QString printable(const QByteArray &bytes, qsizetype limit = 64)
{
    return locktext::shortText(bytes, limit);
}

QString hashText(const RawEntry &raw)
{
    QStringList parts;
    qsizetype length = 0;
    for (const auto &[field, value] : raw.fields) {
        if (length > 300) { // a cell: the first fields say enough
            parts << QStringLiteral("… (%1 fields)").arg(QLocale().toString(qsizetype(raw.fields.size())));
            break;
        }
        parts << printable(field, 48) + QLatin1Char('=') + printable(value, 24);
        length += parts.back().size();
    }
    return parts.join(QStringLiteral(", "));
}

QString pttlText(const NodeEntry &entry)
{
    if (!entry.present())
        return {};
    if (entry.raw.pttlMs == -1)
        return LockDetailsWidget::tr("no TTL");
    return QLocale().toString(entry.raw.pttlMs) + QStringLiteral(" ms");
}

} // namespace

LockDetailsWidget::LockDetailsWidget(QWidget *parent) : QWidget(parent)
{
    m_clock = new QTimer(this);
    m_clock->setInterval(1000);
    connect(m_clock, &QTimer::timeout, this, &LockDetailsWidget::updateClockTexts);
    m_stack = new QStackedWidget;
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);

    m_placeholder = new QLabel(tr("Select a lock to see its details"));
    m_placeholder->setObjectName(QStringLiteral("placeholder"));
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setEnabled(false); // the palette's disabled text: a quiet hint
    m_stack->addWidget(m_placeholder);

    // Summary: the key, then a form of what the value says.
    auto *summary = new QWidget;
    auto *summaryLayout = new QVBoxLayout(summary);
    summaryLayout->setContentsMargins(8, 8, 8, 4);
    summaryLayout->setSpacing(6);
    m_key = selectableLine(QStringLiteral("key"));
    QFont keyFont = m_key->font();
    keyFont.setBold(true);
    keyFont.setPointSizeF(keyFont.pointSizeF() * 1.15);
    m_key->setFont(keyFont);
    summaryLayout->addWidget(m_key);

    m_form = new QFormLayout;
    m_form->setObjectName(QStringLiteral("form"));
    m_form->setLabelAlignment(Qt::AlignRight | Qt::AlignTop);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    m_form->setHorizontalSpacing(12);
    m_form->setVerticalSpacing(4);
    m_groupLabel = valueLabel(QStringLiteral("group"), true);
    m_schema = valueLabel(QStringLiteral("schema"), true);
    m_owner = valueLabel(QStringLiteral("owner"), true);
    m_token = selectableLine(QStringLiteral("token"));
    m_token->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_fence = valueLabel(QStringLiteral("fence"), true);
    m_holds = valueLabel(QStringLiteral("holds"));
    m_acquired = valueLabel(QStringLiteral("acquired"), true);
    m_held = valueLabel(QStringLiteral("held"), true);
    m_ttl = valueLabel(QStringLiteral("ttl"), true);
    m_anomalies = valueLabel(QStringLiteral("anomalies"), true);
    m_details = valueLabel(QStringLiteral("details"), true);
    m_form->addRow(tr("Group:"), m_groupLabel);
    m_form->addRow(tr("Schema:"), m_schema);
    m_form->addRow(tr("Owner:"), m_owner);
    m_form->addRow(tr("Token:"), m_token);
    m_form->addRow(tr("Fencing:"), m_fence);
    m_form->addRow(tr("Holds:"), m_holds);
    m_form->addRow(tr("Acquired:"), m_acquired);
    m_form->addRow(tr("Held on:"), m_held);
    m_form->addRow(tr("TTL:"), m_ttl);
    m_form->addRow(tr("Anomalies:"), m_anomalies);
    m_form->addRow(tr("Details:"), m_details);
    summaryLayout->addLayout(m_form);
    summaryLayout->addStretch(1);
    auto *summaryScroll = new QScrollArea;
    summaryScroll->setObjectName(QStringLiteral("summaryScroll"));
    summaryScroll->setWidget(summary);
    summaryScroll->setWidgetResizable(true);
    summaryScroll->setFrameShape(QFrame::NoFrame);
    summaryScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    // A lock of several holders: each holder and waiter, with its own TTL, and the per-holder
    // actions under them.
    m_holdersBox = new QWidget;
    m_holdersBox->setObjectName(QStringLiteral("holdersBox"));
    auto *holdersLayout = new QVBoxLayout(m_holdersBox);
    holdersLayout->setContentsMargins(8, 4, 8, 4);
    holdersLayout->setSpacing(4);
    m_holdersTitle = sectionTitle(tr("Holders"), QStringLiteral("holdersTitle"));
    holdersLayout->addWidget(m_holdersTitle);
    m_holders = new QTableWidget(0, HolderColumnCount);
    m_holders->setObjectName(QStringLiteral("holders"));
    m_holders->setHorizontalHeaderLabels({tr("Holder"), tr("Owner"), tr("TTL"), tr("Token")});
    m_holders->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_holders->setSelectionMode(QAbstractItemView::SingleSelection);
    m_holders->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_holders->setAlternatingRowColors(true);
    m_holders->setWordWrap(false);
    m_holders->setTextElideMode(Qt::ElideRight);
    m_holders->verticalHeader()->hide();
    m_holders->horizontalHeader()->setHighlightSections(false);
    m_holders->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_holders->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_holders->horizontalHeader()->setSectionResizeMode(HolderWhoColumn, QHeaderView::ResizeToContents);
    m_holders->horizontalHeader()->setSectionResizeMode(HolderOwnerColumn, QHeaderView::Stretch);
    m_holders->horizontalHeader()->setSectionResizeMode(HolderTtlColumn, QHeaderView::ResizeToContents);
    m_holders->horizontalHeader()->setSectionResizeMode(HolderTokenColumn, QHeaderView::ResizeToContents);
    m_holders->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    holdersLayout->addWidget(m_holders);
    connect(m_holders, &QTableWidget::itemSelectionChanged, this, &LockDetailsWidget::selectedHolderChanged);
    m_holderButtons = new QWidget;
    m_holderButtons->setObjectName(QStringLiteral("holderButtons"));
    auto *buttonsLayout = new QHBoxLayout(m_holderButtons);
    buttonsLayout->setContentsMargins(0, 0, 0, 0);
    buttonsLayout->addStretch(1);
    holdersLayout->addWidget(m_holderButtons);
    m_holdersBox->hide();

    // Per node: what each node of the group holds.
    auto *nodesBox = new QWidget;
    auto *nodesLayout = new QVBoxLayout(nodesBox);
    nodesLayout->setContentsMargins(8, 4, 8, 4);
    nodesLayout->setSpacing(4);
    nodesLayout->addWidget(sectionTitle(tr("Nodes"), QStringLiteral("nodesTitle")));
    m_nodes = new QTableWidget(0, NodeColumnCount);
    m_nodes->setObjectName(QStringLiteral("nodes"));
    m_nodes->setHorizontalHeaderLabels({tr("Node"), tr("State"), tr("PTTL"), tr("Type"), tr("Value")});
    m_nodes->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_nodes->setSelectionMode(QAbstractItemView::SingleSelection);
    m_nodes->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_nodes->setAlternatingRowColors(true);
    m_nodes->setWordWrap(false);
    m_nodes->setTextElideMode(Qt::ElideRight);
    m_nodes->verticalHeader()->hide();
    m_nodes->horizontalHeader()->setHighlightSections(false);
    m_nodes->horizontalHeader()->setStretchLastSection(true);
    m_nodes->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_nodes->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The short columns as wide as their content, the value takes the rest: the table fits the
    // pane (the full value is in the tooltip and the raw view below).
    for (int column = 0; column < NodeColumnCount - 1; ++column)
        m_nodes->horizontalHeader()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_nodes->horizontalHeader()->setSectionResizeMode(NodeColumnCount - 1, QHeaderView::Stretch);
    m_nodes->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    nodesLayout->addWidget(m_nodes);
    connect(m_nodes, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (row >= 0 && row != m_selectedNode)
            selectNode(row);
    });

    // The selected node's value, byte for byte.
    m_rawView = new RawValueView;

    // The summary and the node table take what they need; the raw bytes get the rest.
    auto *content = new QWidget;
    content->setObjectName(QStringLiteral("detailsContent"));
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    contentLayout->setSpacing(0);
    contentLayout->addWidget(summaryScroll, 0);
    contentLayout->addWidget(m_holdersBox, 0);
    contentLayout->addWidget(nodesBox, 0);
    contentLayout->addWidget(m_rawView, 1);
    m_summaryScroll = summaryScroll;
    m_stack->addWidget(content);
    m_stack->setCurrentWidget(m_placeholder);
}

LockDetailsWidget::~LockDetailsWidget() = default;

QByteArray LockDetailsWidget::key() const
{
    return m_record ? m_record->key : QByteArray();
}

void LockDetailsWidget::setRecord(const QString &group, const LockRecord *record)
{
    if (!record) {
        m_record.reset();
        m_group.clear();
        m_clock->stop();
        m_selectedNode = -1;
        m_holderRows.clear();
        m_holderCount = 0;
        m_holders->setRowCount(0);
        m_holdersBox->hide();
        m_stack->setCurrentWidget(m_placeholder);
        emit selectedNodeChanged(-1);
        emit selectedHolderChanged();
        return;
    }
    // A refresh of the lock shown keeps the node the operator picked.
    const QString keptNode =
        m_record && m_group == group && m_record->key == record->key ? selectedNodeName() : QString();
    if (!m_record || m_record->key != record->key || m_group != group)
        m_rawView->forgetShowAll(); // "show all" was for that value
    // Until setReadState() says more: read when the record was.
    m_lastRead = record->readAt;
    m_stale = false;
    m_staleReason.clear();
    m_group = group;
    m_record = *record;
    int node = -1;
    for (std::size_t i = 0; i < m_record->nodes.size() && node < 0; ++i) {
        if (!keptNode.isEmpty() && m_record->nodes[i].node == keptNode)
            node = int(i);
    }
    if (node < 0) {
        const NodeEntry *majority = lockscope::inspect::majorityEntry(*m_record);
        node = majority ? int(majority - m_record->nodes.data()) : (m_record->nodes.empty() ? -1 : 0);
    }
    showRecord();
    fillNodes();
    m_selectedNode = -2; // force the update below (which fills the holders of that node)
    selectNode(node);
    m_stack->setCurrentIndex(1);
    fitHeights();
    // Once more when the layout has settled: wrapped labels know their height only then.
    QTimer::singleShot(0, this, [this] {
        if (m_record)
            fitHeights();
    });
}

void LockDetailsWidget::setReadState(const QDateTime &lastRead, bool stale, const QString &why)
{
    if (!m_record)
        return;
    m_lastRead = lastRead.isValid() ? lastRead : m_record->readAt;
    m_stale = stale;
    m_staleReason = why;
    updateClockTexts();
}

void LockDetailsWidget::updateClockTexts()
{
    if (!m_record)
        return;
    const LockRecord &r = *m_record;
    const NodeEntry *majority = lockscope::inspect::majorityEntry(r);
    const QDateTime acquired = majority && majority->decoded ? majority->decoded->acquiredAt : QDateTime();
    const auto now = std::chrono::steady_clock::now();
    QString read = locktext::readAt(m_stale ? r.readAt : m_lastRead);
    if (m_stale)
        read = tr("%1, not confirmed since (%2)").arg(read, m_staleReason);
    QString ttl = locktext::ttlNow(r, now);
    if (r.held > 0 && r.minPttlMs >= 0)
        ttl += QStringLiteral(" \u00b7 ") + read +
               (r.of > 1 ? QStringLiteral(" \u00b7 ") + tr("the smallest among the holders") : QString());
    else if (r.held > 0)
        ttl += QStringLiteral(" \u00b7 ") + read;
    m_ttl->setText(ttl);
    theme::setTextColor(m_ttl, m_stale ? palette().color(QPalette::PlaceholderText) : QColor());
    updateHolderTtls();
    if (acquired.isValid()) {
        const qint64 held =
            std::max<qint64>(0, acquired.msecsTo(r.readAt)) +
            std::chrono::duration_cast<std::chrono::milliseconds>(now - r.readAtSteady).count();
        m_acquired->setText(
            tr("%1 (held for %2)").arg(locktext::clockTime(acquired), LockTableModel::formatAge(held)));
    } else {
        m_acquired->setText(r.schema.isEmpty() ? tr("unknown: the value is not decoded")
                                               : tr("not recorded by %1").arg(r.schema));
    }
    // Counting on while something counts; stopped once nothing can change.
    const bool counting =
        (r.held > 0 && r.minPttlMs >= 0 && locktext::remainingMs(r, now) > -1000) || acquired.isValid();
    if (counting && !m_clock->isActive())
        m_clock->start();
    else if (!counting)
        m_clock->stop();
}

void LockDetailsWidget::fitHeights()
{
    // The node table shows every node (up to 8, then it scrolls) and no empty rows below.
    const int rows = std::min(m_nodes->rowCount(), 8);
    const int rowHeight =
        m_nodes->rowCount() > 0 ? m_nodes->rowHeight(0) : m_nodes->fontMetrics().height() + 8;
    m_nodes->setFixedHeight(
        m_nodes->horizontalHeader()->sizeHint().height() + rows * rowHeight + 2 * m_nodes->frameWidth() +
        (m_nodes->horizontalScrollBar()->isVisible() ? m_nodes->horizontalScrollBar()->height() : 0));
    if (m_holdersBox->isVisibleTo(this)) {
        const int holderRows = std::min(m_holders->rowCount(), 6);
        const int holderHeight =
            m_holders->rowCount() > 0 ? m_holders->rowHeight(0) : m_holders->fontMetrics().height() + 8;
        m_holders->setFixedHeight(m_holders->horizontalHeader()->sizeHint().height() +
                                  holderRows * holderHeight + 2 * m_holders->frameWidth());
    }
    // The summary is as tall as its rows, but leaves the raw view room on short screens.
    QWidget *summary = m_summaryScroll->widget();
    // Measured at the width left beside a vertical scroll bar: measured at the viewport's width,
    // a bar that comes (the summary was cut) narrows it, wrapped lines grow, the bar goes, and the
    // height flips between the two on every fit, cutting the last row each other time.
    const int width = std::max(m_summaryScroll->width() - 2 * m_summaryScroll->frameWidth() -
                                   m_summaryScroll->verticalScrollBar()->sizeHint().width(),
                               summary->minimumSizeHint().width());
    const int wanted =
        summary->hasHeightForWidth() ? summary->heightForWidth(width) : summary->sizeHint().height();
    // The Holders list, when shown, comes out of the summary's share, not the raw view's.
    const int holders = m_holdersBox->isVisibleTo(this) ? m_holdersBox->sizeHint().height() : 0;
    const int limit = std::max(120, (height() - holders) * 3 / 5);
    m_summaryScroll->setFixedHeight(std::min(wanted, limit));
}

void LockDetailsWidget::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    // The warning colours depend on whether the palette is light or dark.
    if (m_record &&
        (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange)) {
        showRecord();
        fillNodes();
        fillHolders(); // the waiters' colour
        const QSignalBlocker blocker(m_nodes);
        if (m_selectedNode >= 0)
            m_nodes->selectRow(m_selectedNode);
    }
}

void LockDetailsWidget::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    if (m_record)
        fitHeights();
}

void LockDetailsWidget::showRecord()
{
    const LockRecord &r = *m_record;
    const NodeEntry *majority = lockscope::inspect::majorityEntry(r);
    const auto &decoded = majority && majority->decoded ? majority->decoded : std::nullopt;
    const QString none = tr("—");

    m_key->setText(locktext::shortText(r.key, 4096));
    m_key->setCursorPosition(0);
    m_key->setToolTip(locktext::shortText(r.key, 1024));
    m_groupLabel->setText(m_group);
    // How sure the decoding is, when it is not certain ("redsync, a guess").
    QString schema = r.schema.isEmpty() ? tr("none recognises the value (shown raw)") : r.schema;
    if (r.confidence && *r.confidence != lockscope::inspect::Confidence::Certain)
        schema += QStringLiteral(", ") + lockscope::inspect::confidenceText(*r.confidence);
    m_schema->setText(schema);
    m_schema->setToolTip(r.confidenceReason);
    // One owner text everywhere (the table, the dialogs): the label and the owner both.
    m_owner->setText(locktext::ownerText(r));
    m_token->setText(locktext::shortText(r.token, 4096));
    m_token->setCursorPosition(0);
    m_token->setToolTip(locktext::shortText(r.token, 1024));
    m_fence->setText(r.fence >= 0 ? QLocale().toString(r.fence)
                                  : tr("none (the format has no fencing token)"));

    QStringList holds;
    if (r.holdCount >= 0)
        holds << tr("held %1 (reentrant)").arg(locktext::counted(r.holdCount, tr("%1 time"), tr("%1 times")));
    if (!r.mode.isEmpty())
        holds << tr("%1 mode").arg(r.mode);
    m_holds->setText(holds.join(QStringLiteral(", ")));
    m_form->setRowVisible(m_holds, !holds.isEmpty());

    QString held = tr("%1 of %2 nodes").arg(r.held).arg(r.of);
    if (r.of > 1)
        held += r.quorum ? tr(", quorum (%1) reached").arg(lockscope::quorumOf(r.of))
                         : tr(", quorum (%1) lost").arg(lockscope::quorumOf(r.of));
    m_held->setText(held);
    theme::setTextColor(m_held, r.of > 1 && !r.quorum ? theme::danger() : QColor());

    updateClockTexts();

    QStringList anomalies;
    for (const QString &id : r.anomalies)
        anomalies << QStringLiteral("• ") + LockTableModel::anomalyText(id);
    m_anomalies->setText(anomalies.isEmpty() ? tr("none") : anomalies.join(QLatin1Char('\n')));
    theme::setTextColor(m_anomalies, anomalies.isEmpty() ? QColor() : theme::warning());

    QStringList details;
    if (decoded) {
        for (auto it = decoded->details.cbegin(); it != decoded->details.cend(); ++it)
            details << locktext::shortText(it.key(), 80) + QStringLiteral(": ") +
                           locktext::shortText(it.value());
    }
    m_details->setText(details.join(QLatin1Char('\n')));
    m_form->setRowVisible(m_details, !details.isEmpty());
}

void LockDetailsWidget::fillNodes()
{
    const LockRecord &r = *m_record;
    // The type column only when it says something: strings are the rule (the raw view's title
    // names the type too), and its room goes to the value.
    const bool allStrings = std::ranges::all_of(r.nodes, [](const NodeEntry &entry) {
        return !entry.present() || entry.raw.type == RawEntry::Type::String;
    });
    m_nodes->setColumnHidden(NodeTypeColumn, allStrings);
    const QSignalBlocker blocker(m_nodes);
    m_nodes->clearContents();
    m_nodes->setRowCount(int(r.nodes.size()));
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
        const NodeEntry &entry = r.nodes[i];
        const int row = int(i);
        QString state;
        QString stateTip;
        QColor stateColor;
        if (!entry.reachable) {
            // Short, so the PTTL, type and value columns keep their room; the error goes in the
            // value cell (and both tooltips).
            state = tr("unreachable");
            stateTip = entry.error;
            stateColor = theme::danger();
        } else if (!entry.present() && !entry.error.isEmpty()) {
            // Reachable, but the key was not read there (a cluster node serving its slot
            // elsewhere): the node's answer in the value cell.
            state = tr("elsewhere");
            stateTip = entry.error;
            stateColor = theme::warning();
        } else if (!entry.present()) {
            state = tr("missing");
            stateTip = tr("The key does not exist on this node");
            stateColor = palette().color(QPalette::PlaceholderText);
        } else if (entry.decoded ? entry.decoded->token != r.token : r.held == 0) {
            state = tr("other holder");
            stateTip = tr("This node holds a different token than the majority");
            stateColor = theme::warning();
        } else {
            state = tr("holds");
            stateTip = tr("This node holds the majority token");
        }
        QString value;
        switch (entry.raw.type) {
        case RawEntry::Type::String:
            value = printable(entry.raw.value);
            break;
        case RawEntry::Type::Hash:
            value = hashText(entry.raw);
            break;
        case RawEntry::Type::Other:
            if (entry.raw.isSortedSet())
                value =
                    locktext::counted(qint64(entry.raw.members.size()), tr("%1 member"), tr("%1 members"));
            else if (entry.raw.isList())
                value =
                    locktext::counted(qint64(entry.raw.elements.size()), tr("%1 element"), tr("%1 elements"));
            break;
        case RawEntry::Type::Missing:
            break;
        }
        if (!entry.error.isEmpty())
            value = entry.error;
        const QStringList cells{entry.node, state, pttlText(entry),
                                entry.present() ? entry.raw.typeName : QString(), value};
        for (int column = 0; column < NodeColumnCount; ++column) {
            auto *item = new QTableWidgetItem(cells[column]);
            if (column == NodeStateColumn) {
                item->setToolTip(stateTip.isEmpty() ? cells[column]
                                                    : cells[column] + QLatin1Char('\n') + stateTip);
                if (stateColor.isValid())
                    item->setForeground(stateColor);
            } else {
                item->setToolTip(cells[column]);
            }
            if (column == NodePttlColumn) {
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                if (entry.present() && entry.raw.pttlMs == -1)
                    item->setForeground(theme::danger());
            }
            m_nodes->setItem(row, column, item);
        }
    }
    m_nodes->resizeColumnsToContents();
    // The value column takes what is left; a long error or value must not push it off screen.
    for (int column = 0; column < NodeValueColumn; ++column)
        m_nodes->setColumnWidth(column, std::min(m_nodes->columnWidth(column), 220));
}

void LockDetailsWidget::selectNode(int node)
{
    if (!m_record || node < -1 || node >= int(m_record->nodes.size()))
        return;
    if (node == m_selectedNode)
        return;
    m_selectedNode = node;
    {
        const QSignalBlocker blocker(m_nodes);
        if (node >= 0)
            m_nodes->selectRow(node);
        else
            m_nodes->clearSelection();
    }
    showRawValue();
    fillHolders();
    emit selectedNodeChanged(node);
}

QString LockDetailsWidget::selectedNodeName() const
{
    if (!m_record || m_selectedNode < 0)
        return {};
    return m_record->nodes[std::size_t(m_selectedNode)].node;
}

QByteArray LockDetailsWidget::selectedNodeValue() const
{
    if (!m_record || m_selectedNode < 0)
        return {};
    const NodeEntry &entry = m_record->nodes[std::size_t(m_selectedNode)];
    if (!entry.present())
        return {};
    if (entry.raw.type == RawEntry::Type::Hash) {
        QByteArray lines;
        for (const auto &[field, value] : entry.raw.fields)
            lines += field + ' ' + value + '\n';
        return lines;
    }
    return entry.raw.value;
}

void LockDetailsWidget::showRawValue()
{
    m_rawView->showEntry(m_record && m_selectedNode >= 0 ? &m_record->nodes[std::size_t(m_selectedNode)]
                                                         : nullptr);
}

bool LockDetailsWidget::showsHex() const
{
    return m_rawView->showsHex();
}

void LockDetailsWidget::setShowsHex(bool hex)
{
    m_rawView->setShowsHex(hex);
}

bool LockDetailsWidget::showsHolders() const
{
    return m_record && !m_holdersBox->isHidden();
}

void LockDetailsWidget::fillHolders()
{
    std::optional<QByteArray> picked;
    if (const auto holder = selectedHolder())
        picked = holder->token;
    m_holderRows.clear();
    m_holderCount = 0;
    if (!m_record)
        return;
    // The selected node's holders (each node of a Redlock set has its own deadlines); the
    // majority's when that node holds nothing decoded.
    const NodeEntry *entry = m_selectedNode >= 0 ? &m_record->nodes[std::size_t(m_selectedNode)] : nullptr;
    if (!entry || !entry->present() || !entry->decoded)
        entry = lockscope::inspect::majorityEntry(*m_record);
    const auto *decoded = entry && entry->decoded ? &*entry->decoded : nullptr;
    namespace lockKind = lockscope::inspect::lockKind;
    // Several holders, a queue, or a kind whose holders come and go one by one (a single reader
    // or permit is still one of several).
    const bool several = decoded && (decoded->holders.size() > 1 || !decoded->queue.empty() ||
                                     decoded->kind == QLatin1String(lockKind::Read) ||
                                     decoded->kind == QLatin1String(lockKind::Write) ||
                                     decoded->kind == QLatin1String(lockKind::Semaphore));
    {
        const QSignalBlocker blocker(m_holders);
        m_holders->clearContents();
        m_holders->setRowCount(0);
        if (several) {
            m_holderRows = decoded->holders;
            m_holderCount = int(m_holderRows.size());
            m_holderRows.insert(m_holderRows.end(), decoded->queue.begin(), decoded->queue.end());
        }
        m_holders->setRowCount(int(m_holderRows.size()));
        const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
        for (int row = 0; row < int(m_holderRows.size()); ++row) {
            const LockHolder &holder = m_holderRows[std::size_t(row)];
            const bool waiting = row >= m_holderCount;
            QString who = waiting ? tr("waiting %1").arg(row - m_holderCount + 1)
                                  : locktext::holderNoun(*m_record, holder);
            if (!waiting && decoded->kind == QLatin1String(lockKind::Semaphore))
                who += QStringLiteral(" %1").arg(row + 1);
            const QString owner =
                holder.owner.isEmpty() ? tr("not recorded") : locktext::shortText(holder.owner);
            const QString token = locktext::shortText(holder.token, 64);
            // As the lock table abbreviates it; the tooltip and the raw view have it whole.
            const QStringList cells{who, owner, QString(),
                                    token.size() > 9 ? token.left(8) + QStringLiteral("…") : token};
            for (int column = 0; column < HolderColumnCount; ++column) {
                auto *item = new QTableWidgetItem(cells[column]);
                item->setToolTip(column == HolderTokenColumn ? token : cells[column]);
                if (column == HolderTokenColumn)
                    item->setFont(mono);
                if (column == HolderTtlColumn)
                    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                if (waiting) {
                    // A waiter holds nothing: shown, not picked for the holder actions.
                    item->setFlags(Qt::ItemIsEnabled);
                    item->setForeground(palette().color(QPalette::PlaceholderText));
                }
                m_holders->setItem(row, column, item);
            }
            if (picked && !waiting && holder.token == *picked)
                m_holders->selectRow(row);
        }
        updateHolderTtls();
    }
    if (several) {
        QString title = decoded->kind == QLatin1String(lockKind::Semaphore) && decoded->permits >= 0
                            ? tr("Holders: %1 of %2 permits").arg(m_holderCount).arg(decoded->permits)
                            : tr("Holders: %1").arg(m_holderCount);
        if (m_holderCount < int(m_holderRows.size()))
            title += tr(", %1 waiting").arg(int(m_holderRows.size()) - m_holderCount);
        if (m_record->of > 1)
            title += tr(" (on %1)").arg(entry->node);
        m_holdersTitle->setText(title);
    }
    m_holdersBox->setVisible(several);
    fitHeights();
    emit selectedHolderChanged();
}

void LockDetailsWidget::updateHolderTtls()
{
    if (!m_record)
        return;
    const auto now = std::chrono::steady_clock::now();
    for (int row = 0; row < int(m_holderRows.size()) && row < m_holders->rowCount(); ++row) {
        QTableWidgetItem *item = m_holders->item(row, HolderTtlColumn);
        if (!item)
            continue;
        const LockHolder &holder = m_holderRows[std::size_t(row)];
        const QString full = locktext::holderTtlNow(*m_record, holder, now);
        const qint64 left = locktext::holderRemainingMs(*m_record, holder, now);
        item->setText(holder.pttlMs < 0 ? tr("no TTL")
                      : left <= 0       ? tr("ran out")
                                        : LockTableModel::formatCountdown(left));
        item->setToolTip(full + QStringLiteral(" \u00b7 ") + locktext::readAt(m_record->readAt));
        if (holder.pttlMs < 0 || left < 1000)
            item->setForeground(theme::danger());
    }
}

std::optional<LockHolder> LockDetailsWidget::selectedHolder() const
{
    if (!m_record || m_holdersBox->isHidden())
        return std::nullopt;
    const QList<QTableWidgetItem *> items = m_holders->selectedItems();
    if (items.isEmpty())
        return std::nullopt;
    const int row = items.first()->row();
    if (row < 0 || row >= m_holderCount)
        return std::nullopt;
    return m_holderRows[std::size_t(row)];
}

void LockDetailsWidget::setHolderActions(const QList<QAction *> &actions)
{
    auto *layout = static_cast<QHBoxLayout *>(m_holderButtons->layout());
    for (QAction *action : actions) {
        auto *button = new QToolButton(m_holderButtons);
        button->setDefaultAction(action);
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        button->setObjectName(action->objectName() + QStringLiteral("Button"));
        layout->addWidget(button);
    }
}

bool LockDetailsWidget::selectHolder(int row)
{
    if (!showsHolders() || row < 0 || row >= m_holderCount)
        return false;
    m_holders->selectRow(row);
    return true;
}
