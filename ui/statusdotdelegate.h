#pragma once

#include <QStyledItemDelegate>

/// Draws a coloured dot before the text of a cell: green when the row's node is up, red when
/// it is down, grey while unknown. The state comes from NodeListModel::StateRole.
class StatusDotDelegate : public QStyledItemDelegate
{
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    static QColor colorFor(int state);
    /// The dot for a NodeListModel::State, at the usual icon sizes and pixel ratios.
    static QIcon stateIcon(int state);
    /// A dot of any colour, e.g. for log lines that are not about a node's state.
    static QIcon dotIcon(const QColor &color);

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};
