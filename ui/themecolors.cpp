#include "themecolors.h"

#include <QLabel>

namespace theme {

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QColor danger(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xff, 0x6b, 0x63) : QColor(0xc0, 0x30, 0x2a);
}

QColor success(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x5c, 0xcf, 0x74) : QColor(0x1f, 0x7a, 0x35);
}

QColor warning(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xf0, 0xb4, 0x3c) : QColor(0x9a, 0x60, 0x00);
}

QLabel *noteLabel(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

void setTextColor(QLabel *label, const QColor &color)
{
    if (!color.isValid()) {
        label->setPalette(QPalette());
        return;
    }
    QPalette palette;
    palette.setColor(QPalette::WindowText, color);
    label->setPalette(palette);
}

} // namespace theme
