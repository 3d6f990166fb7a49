#pragma once

#include <QColor>
#include <QGuiApplication>
#include <QPalette>

class QLabel;
class QString;

/// Colours and labels the widgets share, chosen from the palette so that they read on light and
/// dark palettes alike (read them when painting or on a palette change, never cache them).
namespace theme {

/// A dark palette: its base (the background of views) is dark.
bool isDark(const QPalette &palette = QGuiApplication::palette());
/// Text that must stand out (quorum lost, violations): a darker red on light palettes, a
/// lighter one on dark.
QColor danger(const QPalette &palette = QGuiApplication::palette());
/// Text that says something worked (a connection test that passed).
QColor success(const QPalette &palette = QGuiApplication::palette());
/// Text that warns (anomalies, a TTL about to run out).
QColor warning(const QPalette &palette = QGuiApplication::palette());

/// A secondary, word-wrapped note in the palette's placeholder colour.
QLabel *noteLabel(const QString &objectName);
/// Shows `label` in `color`, or (invalid colour) in the palette's, following palette changes.
void setTextColor(QLabel *label, const QColor &color);

} // namespace theme
