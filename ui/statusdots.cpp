#include "statusdots.h"

#include "models/nodelistmodel.h"

#include <QHash>
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

namespace statusdots {

QColor colorFor(int state)
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

QIcon stateIcon(int state)
{
    return dotIcon(colorFor(state));
}

QIcon dotIcon(const QColor &color)
{
    // A handful of colours.
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

QIcon nodeIcon(int state, const QString &colorTag)
{
    // Asked for at every repaint of the node tree: three states times a few tags.
    static QHash<QString, QIcon> cache;
    const QString key = QString::number(state) + QLatin1Char('/') + colorTag;
    auto it = cache.constFind(key);
    if (it != cache.cend())
        return *it;
    QIcon icon;
    const QIcon dot = stateIcon(state);
    for (const qreal dpr : {1.0, 2.0}) {
        QPixmap pixmap(QSize(22, 16) * dpr);
        pixmap.setDevicePixelRatio(dpr);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        if (!colorTag.isEmpty()) {
            painter.setBrush(QColor(colorTag));
            painter.drawRoundedRect(QRectF(1, 2, 4, 12), 1.5, 1.5);
        }
        dot.paint(&painter, QRect(6, 0, 16, 16));
        painter.end();
        icon.addPixmap(pixmap);
    }
    cache.insert(key, icon);
    return icon;
}

} // namespace statusdots
