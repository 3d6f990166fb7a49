#pragma once

#include <QColor>
#include <QIcon>

/// The coloured dots that say a node's state (green up, red down, grey unknown) in the node
/// tree and the event log. GUI thread only (the icons are cached).
namespace statusdots {

/// The colour of a NodeListModel::State.
QColor colorFor(int state);
/// The dot for a NodeListModel::State, at the usual icon sizes and pixel ratios.
QIcon stateIcon(int state);
/// A dot of any colour, e.g. for log lines that are not about a node's state.
QIcon dotIcon(const QColor &color);
/// The state's dot with the node's colour tag as a bar on its left (22x16; the same size with
/// and without a tag, so that nodes line up). `colorTag` may be empty.
QIcon nodeIcon(int state, const QString &colorTag);

} // namespace statusdots
