#include "eventlogwidget.h"

#include "models/nodelistmodel.h"
#include "statusdots.h"

#include <QHeaderView>
#include <QLocale>
#include <QScrollBar>
#include <algorithm>

namespace {

const QColor InfoColor(0x3b, 0x7d, 0xd8);
const QColor AuditColor(0x8e, 0x5c, 0xd8);

/// On lines logged by logOrUpdate(): their key.
constexpr int LineKeyRole = Qt::UserRole + 1;

QIcon iconFor(EventLogWidget::Kind kind)
{
    switch (kind) {
    case EventLogWidget::Kind::Up:
        return statusdots::stateIcon(int(NodeListModel::State::Up));
    case EventLogWidget::Kind::Down:
    case EventLogWidget::Kind::Error:
        return statusdots::stateIcon(int(NodeListModel::State::Down));
    case EventLogWidget::Kind::Info:
        return statusdots::dotIcon(InfoColor);
    case EventLogWidget::Kind::Audit:
        return statusdots::dotIcon(AuditColor);
    }
    return {};
}

QString toolTipOf(const QString &text, const QString &detail)
{
    return detail.isEmpty() ? text : text + QStringLiteral("\n\n") + detail;
}

} // namespace

EventLogWidget::EventLogWidget(QWidget *parent) : QTreeWidget(parent)
{
    setObjectName(QStringLiteral("eventLog"));
    setColumnCount(3);
    setHeaderLabels({tr("Time"), tr("Node"), tr("Event")});
    setRootIsDecorated(false);
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    header()->setStretchLastSection(true);
    const int digitWidth = fontMetrics().horizontalAdvance(QStringLiteral("00:00:00"));
    setColumnWidth(TimeColumn, digitWidth + 48);
    setColumnWidth(NodeColumn, fontMetrics().horizontalAdvance(QLatin1Char('m')) * 12);
    m_noticeTimer.setSingleShot(true);
    m_noticeTimer.setInterval(500);
    connect(&m_noticeTimer, &QTimer::timeout, this, &EventLogWidget::flushNotices);
}

void EventLogWidget::log(Kind kind, const QString &node, const QString &text, const QDateTime &at,
                         const QString &detail)
{
    const QDateTime time = at.isValid() ? at.toLocalTime() : QDateTime::currentDateTime();
    auto *item = new QTreeWidgetItem;
    item->setText(TimeColumn, time.toString(QStringLiteral("HH:mm:ss")));
    item->setToolTip(TimeColumn, QLocale().toString(time, QLocale::LongFormat));
    item->setText(NodeColumn, node);
    item->setText(EventColumn, text);
    item->setToolTip(EventColumn, toolTipOf(text, detail));
    item->setData(TimeColumn, Qt::UserRole, int(kind));
    item->setIcon(TimeColumn, iconFor(kind));
    const QScrollBar *bar = verticalScrollBar();
    const bool atBottom = bar->value() == bar->maximum();
    addTopLevelItem(item);
    while (topLevelItemCount() > MaxEntries)
        delete takeTopLevelItem(0);
    if (atBottom)
        scrollToItem(item);
}

void EventLogWidget::logOrUpdate(const QString &key, Kind kind, const QString &node, const QString &text,
                                 const QString &detail)
{
    for (int i = topLevelItemCount() - 1; i >= 0; --i) {
        QTreeWidgetItem *line = topLevelItem(i);
        if (line->data(EventColumn, LineKeyRole).toString() == key) {
            line->setText(EventColumn, text);
            line->setToolTip(EventColumn, toolTipOf(text, detail));
            return;
        }
    }
    log(kind, node, text, {}, detail);
    topLevelItem(topLevelItemCount() - 1)->setData(EventColumn, LineKeyRole, key);
}

void EventLogWidget::notice(const QString &group, const QString &node, const QString &text,
                            const QString &detail)
{
    const QString key = group + QLatin1Char('\n') + text;
    if (m_noticesSaid.value(key).contains(node))
        return; // said already (a reconnect asks every node again)
    m_noticesSaid[key].append(node);
    const bool pending = std::any_of(m_noticesPending.cbegin(), m_noticesPending.cend(),
                                     [&](const Notice &n) { return n.group == group && n.text == text; });
    if (!pending)
        m_noticesPending.append(Notice{group, text, detail});
    m_noticeTimer.start();
}

void EventLogWidget::flushNotices()
{
    for (const Notice &notice : std::as_const(m_noticesPending)) {
        // Every node said so far for this group and text: one line per group, updated in place
        // when a slower node says the same later.
        const QString key = notice.group + QLatin1Char('\n') + notice.text;
        const QStringList nodes = m_noticesSaid.value(key);
        const QString where = nodes.size() == 1 ? nodes.front() : tr("%1 nodes").arg(nodes.size());
        logOrUpdate(key, Kind::Info, notice.group, tr("%1 (%2)").arg(notice.text, where),
                    nodes.join(QStringLiteral(", ")) + QStringLiteral(":\n") + notice.detail);
    }
    m_noticesPending.clear();
}
