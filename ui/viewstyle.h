#pragma once

class QAbstractItemView;
class QHeaderView;

/// Wider text margins in the cells of `view` and in `header`'s sections (the styles' 3 px run a
/// right-aligned number into the next column's text: "0.10 ms7.0.15"). The lock table, the node
/// tree and the event log all use it, so that their texts line up alike.
void useCellMargins(QAbstractItemView *view, QHeaderView *header);
