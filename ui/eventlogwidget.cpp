#include "eventlogwidget.h"

#include "models/nodelistmodel.h"
#include "statusdots.h"

#include <QHeaderView>
#include <QLocale>
#include <QScrollBar>

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
