#pragma once

#include <QHeaderView>
#include <QSet>
#include <QTimer>

class QMenu;
class QTableView;

/// The lock table's header. It owns the columns' widths: fitted to their contents and to the
/// table's width until the operator sizes a column, theirs from then on (also in the next
/// session: see userSized()). It also offers the column menu (show or hide any column).
///
/// Why not Qt's resize modes alone: Stretch on the key column would make it the one column
/// the operator cannot drag, and would give it all the room while the owner keeps its full
/// content width; a maximum section size is one cap for every column, where the short names
/// (group, schema) need a lower one than the key. So the fitting below is ours: content
/// widths, and when the row is wider than the table, the key and the owner share what the
/// other columns leave, max-min fair, the key twice the owner's share.
class LockHeaderView : public QHeaderView
{
    Q_OBJECT

public:
    /// Becomes `table`'s horizontal header. `table`'s model has LockTableModel's columns.
    explicit LockHeaderView(QTableView *table);

    /// Fits the visible columns now (content widths; key and owner share the rest).
    void fitColumns();
    /// Fits the columns to the first locks of `group`, once per group, unless the operator
    /// sized a column. After the first fit the columns follow the table's width.
    void fitForGroup(const QString &group);
    /// Forgets which groups were fitted (new groups: their first locks fit again).
    void forgetFittedGroups();
    /// Back to fitted widths, as at first start (View > Reset Layout).
    void resetToFitted();

    /// The operator sized a column (a dragged handle, a double-click), now or in an earlier
    /// session; widths are then never fitted again until resetToFitted().
    bool userSized() const { return m_userSized; }
    void setUserSized(bool userSized) { m_userSized = userSized; }

    /// The column menu: one checkable entry per column, checked when shown.
    QMenu *createColumnMenu(QWidget *parent);

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    void trackLeftButton(QMouseEvent *event, bool down);

    QTableView *m_table;
    QTimer m_refitTimer; ///< refits once a resize of the table settles
    QSet<QString> m_fittedGroups;
    bool m_userSized = false;
    bool m_fitting = false;        ///< fitColumns() is resizing sections
    bool m_leftButtonDown = false; ///< on the header: resizes now are the operator's
};
