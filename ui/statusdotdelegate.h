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
    /// A dot of the given logical size, rendered for the device pixel ratio.
    static QIcon dotIcon(int state);

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};
