#pragma once

#include "themecolors.h"

#include <QLabel>
#include <QString>

// The red line under a field that says what is wrong with it (hidden while nothing is).
namespace inlineerror {

inline QLabel *label(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setWordWrap(true);
    theme::setTextColor(label, theme::danger(label->palette()));
    label->setVisible(false);
    return label;
}

inline void show(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

} // namespace inlineerror
