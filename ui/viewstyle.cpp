#include "viewstyle.h"

#include <QAbstractItemView>
#include <QHeaderView>
#include <QProxyStyle>

namespace {

/// Wider text margins in table cells: with the styles' 3 px, a right-aligned number runs into
/// the left-aligned text of the next column ("0.10 ms7.0.15").
class CellMarginStyle : public QProxyStyle
{
public:
    int pixelMetric(PixelMetric metric, const QStyleOption *option, const QWidget *widget) const override
    {
        // The header gets the same extra margin, so that titles line up with the cells.
        if (metric == PM_FocusFrameHMargin || metric == PM_HeaderMargin)
            return QProxyStyle::pixelMetric(metric, option, widget) + 4;
        return QProxyStyle::pixelMetric(metric, option, widget);
    }
};

} // namespace

void useCellMargins(QAbstractItemView *view, QHeaderView *header)
{
    auto *style = new CellMarginStyle;
    style->setParent(view);
    view->setStyle(style);
    header->setStyle(style);
}
