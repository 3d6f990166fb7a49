#include "lockheaderview.h"

#include "models/locktablemodel.h"

#include <QContextMenuEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QScopedValueRollback>
#include <QTableView>
#include <algorithm>
#include <vector>

LockHeaderView::LockHeaderView(QTableView *table) : QHeaderView(Qt::Horizontal, table), m_table(table)
{
    setObjectName(QStringLiteral("lockHeader"));
    setSectionsClickable(true);
    setHighlightSections(false);
    setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    setSectionResizeMode(QHeaderView::Interactive);
    setStretchLastSection(true);
    setSortIndicatorClearable(true);
    // Fitting a column to its contents (ours, or a double-click on a handle) looks at the rows
    // on screen, not at a thousand of them: with 100,000 locks that took tens of ms.
    setResizeContentsPrecision(0);
    table->setHorizontalHeader(this);

    m_refitTimer.setSingleShot(true);
    m_refitTimer.setInterval(100);
    connect(&m_refitTimer, &QTimer::timeout, this, [this] {
        if (!m_userSized && !m_fittedGroups.isEmpty())
            fitColumns();
    });
    connect(this, &QHeaderView::sectionResized, this, [this] {
        // The operator's own widths win over fitting: a section resized while the left button
        // is down on the header is theirs (a dragged handle, a double-click). The style, the
        // window, a dragged dock and fitting resize sections too, and say nothing about what
        // the operator wants.
        if (!m_fitting && m_leftButtonDown)
            m_userSized = true;
    });
}

void LockHeaderView::fitColumns()
{
    // Every column as wide as its content. When the row is wider than the table, the key and
    // the owner share what the others leave, max-min fair: a column narrower than its share
    // keeps its content width, the wider ones are cut to a common width, the key's twice the
    // owner's (it is what the operator reads first). Below 5 em a column says nothing, so at
    // that point the table scrolls sideways instead.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    // Group, schema, kind and the abbreviated token are short names: they keep their content
    // width (up to a cap), so that "payments-redlock" is never cut to "paym…lock"; only the
    // schema gives way, below, when the owner would be left too little to be read.
    const auto weight = [](int column) {
        switch (column) {
        case LockTableModel::Key:
            return 2;
        case LockTableModel::Owner:
            return 1;
        default:
            return 0; // keeps its content width
        }
    };
    const auto cap = [em](int column) {
        switch (column) {
        case LockTableModel::Group:
            return 16 * em;
        case LockTableModel::Schema:
            return 14 * em;
        case LockTableModel::Kind:
            return 12 * em;
        default:
            return 40 * em;
        }
    };
    if (!model())
        return;
    const QScopedValueRollback fitting(m_fitting, true);
    int budget = m_table->viewport()->width();
    int weights = 0;
    std::vector<std::pair<int, int>> shared; // content width, column
    std::vector<std::pair<int, int>> fixed;  // width, column
    for (int column = 0; column < count(); ++column) {
        if (isSectionHidden(column))
            continue;
        // The cells' widest text and the header's text; not the header's own size hint, which
        // reserves room for a sort arrow in every column. The cell hint leaves out the wider
        // cell margins of the table's style: one em more.
        const QString title = model()->headerData(column, Qt::Horizontal).toString();
        const int content = std::max(static_cast<QAbstractItemView *>(m_table)->sizeHintForColumn(column),
                                     fontMetrics().horizontalAdvance(title) + em);
        const int width = std::min(content + em, cap(column));
        if (weight(column) > 0) {
            shared.emplace_back(width, column);
            weights += weight(column);
        } else {
            fixed.emplace_back(width, column);
            budget -= width;
        }
    }
    // When the key and the owner would be left less than they need to be read (the owner 10 em,
    // and the key twice that, as they share by weight), the schema gives way first, down to 7 em
    // (cut at the end; its tooltip and Details have it whole): "lockscope-kinds" says less than
    // the owner's name. The kind is short and stays whole.
    int need = 0;
    for (const auto &[width, column] : shared)
        need += std::min(width, column == LockTableModel::Key ? 20 * em : 10 * em);
    for (auto &[width, column] : fixed) {
        if (column == LockTableModel::Schema && need > budget && width > 7 * em) {
            const int give = std::min(need - budget, width - 7 * em);
            width -= give;
            budget += give;
        }
    }
    for (const auto &[width, column] : fixed)
        resizeSection(column, width);
    // Narrowest first, relative to its weight: what one column leaves goes to the rest.
    std::ranges::sort(shared, [&](const auto &a, const auto &b) {
        return a.first * weight(b.second) < b.first * weight(a.second);
    });
    for (const auto &[width, column] : shared) {
        // The key gets room for a typical key even when that makes the table scroll sideways.
        const int least = column == LockTableModel::Key ? std::min(width, 14 * em) : 5 * em;
        const int share = std::max(least, budget * weight(column) / std::max(1, weights));
        const int fitted = std::min(width, share);
        resizeSection(column, fitted);
        budget -= fitted;
        weights -= weight(column);
    }
}

void LockHeaderView::fitForGroup(const QString &group)
{
    if (m_userSized || m_fittedGroups.contains(group))
        return;
    m_fittedGroups.insert(group);
    fitColumns();
}

void LockHeaderView::forgetFittedGroups()
{
    m_fittedGroups.clear();
}

void LockHeaderView::resetToFitted()
{
    m_userSized = false;
    m_fittedGroups.clear();
    fitColumns();
}

QMenu *LockHeaderView::createColumnMenu(QWidget *parent)
{
    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("columnMenu"));
    for (int column = 0; column < count() && model(); ++column) {
        QAction *toggle = menu->addAction(model()->headerData(column, Qt::Horizontal).toString());
        toggle->setCheckable(true);
        toggle->setChecked(!isSectionHidden(column));
        connect(toggle, &QAction::toggled, this,
                [this, column](bool shown) { setSectionHidden(column, !shown); });
    }
    return menu;
}

void LockHeaderView::trackLeftButton(QMouseEvent *event, bool down)
{
    // The left button only: a right click opens the column menu, which takes the release.
    if (event->button() == Qt::LeftButton)
        m_leftButtonDown = down;
}

void LockHeaderView::mousePressEvent(QMouseEvent *event)
{
    trackLeftButton(event, true);
    QHeaderView::mousePressEvent(event);
}

void LockHeaderView::mouseDoubleClickEvent(QMouseEvent *event)
{
    trackLeftButton(event, true);
    QHeaderView::mouseDoubleClickEvent(event);
}

void LockHeaderView::mouseReleaseEvent(QMouseEvent *event)
{
    QHeaderView::mouseReleaseEvent(event);
    trackLeftButton(event, false);
}

void LockHeaderView::resizeEvent(QResizeEvent *event)
{
    QHeaderView::resizeEvent(event);
    // The header is as wide as the table's viewport: until the operator sizes a column, the
    // columns follow it (a dock shown or hidden, the window resized) once the resizing settles.
    if (event->size().width() != event->oldSize().width() && !m_userSized && !m_fittedGroups.isEmpty())
        m_refitTimer.start();
}

void LockHeaderView::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu *menu = createColumnMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(event->globalPos());
}
