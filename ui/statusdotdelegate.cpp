#include "statusdotdelegate.h"

#include "nodelistmodel.h"

#include <QHash>
#include <QIcon>
#include <QPainter>
#include <QPixmap>

namespace {

QPixmap renderDot(const QColor &color, int size, qreal dpr)
{
    QPixmap pixmap(QSize(size, size) * dpr);
    pixmap.setDevicePixelRatio(dpr);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    const qreal diameter = size * 0.62;
    const QRectF circle((size - diameter) / 2.0, (size - diameter) / 2.0, diameter, diameter);
    painter.setPen(QPen(color.darker(125), 1.0));
    painter.setBrush(color);
    painter.drawEllipse(circle);
    return pixmap;
}

} // namespace

QColor StatusDotDelegate::colorFor(int state)
{
    switch (NodeListModel::State(state)) {
    case NodeListModel::State::Up:
        return QColor(0x2e, 0xa0, 0x43);
    case NodeListModel::State::Down:
        return QColor(0xd9, 0x3f, 0x3a);
    case NodeListModel::State::Unknown:
        break;
    }
    return QColor(0x9a, 0x9a, 0x9a);
}

QIcon StatusDotDelegate::stateIcon(int state)
{
    return dotIcon(colorFor(state));
}

QIcon StatusDotDelegate::dotIcon(const QColor &color)
{
    // Only used on the GUI thread; a handful of colours.
    static QHash<QRgb, QIcon> cache;
    auto it = cache.constFind(color.rgba());
    if (it != cache.cend())
        return *it;
    QIcon icon;
    for (const int size : {16, 20, 24})
        for (const qreal dpr : {1.0, 2.0})
            icon.addPixmap(renderDot(color, size, dpr));
    cache.insert(color.rgba(), icon);
    return icon;
}

void StatusDotDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    const QVariant state = index.data(NodeListModel::StateRole);
    if (!state.isValid())
        return;
    option->icon = stateIcon(state.toInt());
    option->features |= QStyleOptionViewItem::HasDecoration;
    option->decorationSize = QSize(16, 16);
}
