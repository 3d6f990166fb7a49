#include "simtimeline.h"

#include "themecolors.h"

#include <QPaintEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

using lockscope::sim::BreakerRecord;
using lockscope::sim::SectionEvent;

namespace {

// Red and orange that read on light and dark backgrounds alike.
QColor violationColor(const QPalette &palette)
{
    return theme::isDark(palette) ? QColor(0xff, 0x5f, 0x57) : QColor(0xd6, 0x2f, 0x26);
}

QColor rejectedColor(const QPalette &palette)
{
    return theme::isDark(palette) ? QColor(0xf2, 0xa1, 0x3c) : QColor(0xe0, 0x7b, 0x00);
}

QColor greyColor(const QPalette &palette)
{
    return palette.color(QPalette::PlaceholderText);
}

QColor fillFor(SectionEvent::Outcome outcome, const QPalette &palette)
{
    switch (outcome) {
    case SectionEvent::Outcome::Accepted:
        return palette.color(QPalette::Highlight);
    case SectionEvent::Outcome::Violation:
        return violationColor(palette);
    case SectionEvent::Outcome::FencingRejected:
        return rejectedColor(palette);
    case SectionEvent::Outcome::Abandoned:
    case SectionEvent::Outcome::Interrupted:
        break;
    }
    return greyColor(palette);
}

/// A tick step of 1, 2 or 5 x 10^n µs giving about `ticks` ticks over `span`.
qint64 tickStep(qint64 span, int ticks)
{
    const double raw = static_cast<double>(span) / std::max(1, ticks);
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
    for (const double factor : {1.0, 2.0, 5.0, 10.0}) {
        if (magnitude * factor >= raw)
            return static_cast<qint64>(magnitude * factor);
    }
    return static_cast<qint64>(magnitude * 10);
}

QString tickLabel(qint64 us, qint64 step)
{
    if (step >= 1'000'000)
        return QStringLiteral("%1 s").arg(us / 1'000'000);
    if (step >= 1000)
        return QStringLiteral("%1 s").arg(static_cast<double>(us) / 1e6, 0, 'f', step >= 100'000 ? 1 : 2);
    return QStringLiteral("%1 ms").arg(static_cast<double>(us) / 1e3, 0, 'f', 1);
}

constexpr qint64 HistoryUs = 60'000'000;
constexpr qint64 MinWindowUs = 100'000;
constexpr size_t MaxPinned = 500;

struct LegendItem
{
    QString text;
    int kind; // 0 fill, 1 outline, 2 hatch
    QColor color;
};

} // namespace

SimTimeline::SimTimeline(QWidget *parent) : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setToolTip(tr("Who held the lock when: one lane per worker, one bar per critical section "
                  "(lock obtained to write done); the thin line before a bar is the wait for the lock. "
                  "The mouse wheel zooms."));
}

void SimTimeline::setWorkerCount(int workers)
{
    m_workers = std::max(0, workers);
    update();
}

void SimTimeline::addEvents(const std::vector<SectionEvent> &events)
{
    for (const SectionEvent &e : events) {
        m_events.push_back(e);
        m_workers = std::max(m_workers, e.worker + 1);
        m_lastEndUs = std::max(m_lastEndUs, e.endUs);
        if (e.outcome == SectionEvent::Outcome::Violation &&
            (m_firstViolationUs < 0 || e.startUs < m_firstViolationUs)) {
            m_firstViolationUs = e.startUs;
            m_firstViolationEndUs = e.endUs;
        }
    }
    prune();
    update();
}

void SimTimeline::setNow(qint64 us)
{
    m_nowUs = us;
    prune();
    update();
}

void SimTimeline::setWindow(std::chrono::milliseconds window)
{
    m_windowUs = std::max<qint64>(1000, window.count() * 1000);
    update();
}

std::chrono::milliseconds SimTimeline::window() const
{
    return std::chrono::milliseconds(m_windowUs / 1000);
}

void SimTimeline::showRun(qint64 runUs)
{
    const qint64 end = std::max({runUs, m_lastEndUs, qint64(1)});
    if (m_followWindowUs < 0)
        m_followWindowUs = m_windowUs;
    // A little room after the last section, so that it does not end on the frame.
    m_windowUs = std::clamp<qint64>(end + end / 50, MinWindowUs, HistoryUs);
    m_nowUs = end;
    if (m_firstViolationUs >= 0 && m_firstViolationUs < rightUs() - m_windowUs) {
        const qint64 middle = m_firstViolationUs + (m_firstViolationEndUs - m_firstViolationUs) / 2;
        m_nowUs = std::min(end, middle + m_windowUs / 2);
    }
    update();
}

void SimTimeline::addBreakerMarks(const std::vector<BreakerRecord> &records)
{
    for (const BreakerRecord &r : records) {
        if (r.event.to == lockscope::redis::BreakerState::HalfOpen)
            continue;
        m_breakerMarks.push_back({r.atUs, r.event.to == lockscope::redis::BreakerState::Open});
    }
    update();
}

void SimTimeline::clear()
{
    m_events.clear();
    m_breakerMarks.clear();
    m_pinned.clear();
    m_firstViolationUs = -1;
    m_firstViolationEndUs = -1;
    // The next run is followed with the window chosen before (not the one that fit this run).
    if (m_followWindowUs >= 0)
        m_windowUs = m_followWindowUs;
    m_followWindowUs = -1;
    m_nowUs = 0;
    m_lastEndUs = 0;
    update();
}

void SimTimeline::prune()
{
    // Sections arrive in the order they ended: the oldest ends are at the front. A minute is
    // kept whatever the window, so that zooming out shows what was already there.
    const qint64 from = m_nowUs - std::max(m_windowUs, HistoryUs);
    while (!m_events.empty() && (m_events.front().endUs < from || m_events.size() > size_t(maxEvents()))) {
        if (m_events.front().outcome == SectionEvent::Outcome::Violation && m_pinned.size() < MaxPinned)
            m_pinned.push_back(m_events.front());
        m_events.pop_front();
    }
}

void SimTimeline::wheelEvent(QWheelEvent *event)
{
    const int steps = event->angleDelta().y() / 120;
    if (steps == 0) {
        event->ignore();
        return;
    }
    const double factor = std::pow(1.5, -steps);
    m_windowUs =
        std::clamp<qint64>(std::llround(static_cast<double>(m_windowUs) * factor), MinWindowUs, HistoryUs);
    event->accept();
    update();
}

QSize SimTimeline::sizeHint() const
{
    return {400, 260};
}

QSize SimTimeline::minimumSizeHint() const
{
    return {200, 120};
}

void SimTimeline::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QPalette pal = palette();
    const QFontMetrics fm = fontMetrics();
    painter.fillRect(rect(), pal.color(QPalette::Window));

    const QColor text = pal.color(QPalette::WindowText);
    const QColor quiet = greyColor(pal);
    const QColor red = violationColor(pal);

    // Legend: wrapped over as many rows as the width needs.
    const std::vector<LegendItem> legend{
        {tr("Accepted"), 0, pal.color(QPalette::Highlight)},
        {tr("Violation"), 0, red},
        {tr("Fencing rejected"), 0, rejectedColor(pal)},
        {tr("Abandoned"), 0, quiet},
        {tr("Overlap"), 1, red},
        {tr("Stalled"), 2, text},
    };
    const int swatch = fm.height() - 4;
    const int rowHeight = fm.height() + 4;
    const int margin = 6;
    std::vector<QPoint> legendPos;
    int legendRows = 1;
    {
        int x = margin;
        int row = 0;
        for (const LegendItem &item : legend) {
            const int w = swatch + 4 + fm.horizontalAdvance(item.text) + 12;
            if (x + w > width() - margin && x > margin) {
                ++row;
                x = margin;
            }
            legendPos.emplace_back(x, row);
            x += w;
        }
        legendRows = row + 1;
    }
    const int legendHeight = legendRows * rowHeight + 2;
    const int axisHeight = fm.height() + 6;

    const int labelWidth = fm.horizontalAdvance(QStringLiteral("w%1").arg(std::max(9, m_workers - 1))) + 8;
    const QRect plot(labelWidth, margin, std::max(10, width() - labelWidth - margin),
                     std::max(10, height() - margin - axisHeight - legendHeight));
    painter.fillRect(plot, pal.color(QPalette::Base));

    const qint64 right = rightUs();
    const qint64 left = leftUs();
    const auto xOf = [&](qint64 us) {
        return plot.left() + static_cast<double>(us - left) / static_cast<double>(m_windowUs) * plot.width();
    };

    // Lanes, alternating, labelled as often as they fit.
    const int lanes = std::max(1, m_workers);
    const double laneHeight = static_cast<double>(plot.height()) / lanes;
    const int labelEvery = std::max(1, static_cast<int>(std::ceil(fm.height() / std::max(1.0, laneHeight))));
    for (int lane = 0; lane < lanes; ++lane) {
        const QRectF laneRect(plot.left(), plot.top() + lane * laneHeight, plot.width(), laneHeight);
        if (lane % 2 == 1)
            painter.fillRect(laneRect, pal.color(QPalette::AlternateBase));
        if (m_workers > 0 && lane % labelEvery == 0) {
            painter.setPen(quiet);
            const QRectF labelRect(0, laneRect.center().y() - fm.height() / 2.0, labelWidth - 4, fm.height());
            painter.drawText(labelRect, Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("w%1").arg(lane));
        }
    }

    // Time grid and axis labels (seconds since the start of the run).
    const qint64 step =
        tickStep(m_windowUs, std::max(2, plot.width() / (fm.horizontalAdvance(QLatin1Char('0')) * 9)));
    QColor grid = pal.color(QPalette::WindowText);
    grid.setAlpha(40);
    for (qint64 t = (std::max<qint64>(0, left) + step - 1) / step * step; t <= right; t += step) {
        const double x = xOf(t);
        painter.setPen(grid);
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        painter.setPen(quiet);
        const QString label = tickLabel(t, step);
        const int w = fm.horizontalAdvance(label);
        const double lx = std::clamp(x - w / 2.0, 0.0, static_cast<double>(width() - w));
        painter.drawText(QPointF(lx, plot.bottom() + 3 + fm.ascent()), label);
    }

    // Sections.
    painter.save();
    painter.setClipRect(plot);
    const double barHeight = std::max(1.0, laneHeight * 0.7);
    QColor waitColor = quiet;
    waitColor.setAlpha(110);
    // Waits first, so that they never cross a bar (a worker's next wait begins as its section ends).
    if (laneHeight >= 4) {
        painter.setPen(QPen(waitColor, 1));
        for (const auto *events : {&m_pinned, &m_events}) {
            for (const SectionEvent &e : *events) {
                if (e.endUs < left || e.requestUs > right || e.worker < 0 || e.requestUs >= e.startUs)
                    continue;
                const double cy = plot.top() + e.worker * laneHeight + laneHeight / 2.0;
                painter.drawLine(QPointF(xOf(e.requestUs), cy), QPointF(xOf(e.startUs), cy));
            }
        }
    }
    std::vector<const SectionEvent *> shown;
    for (const auto *events : {&m_pinned, &m_events}) {
        for (const SectionEvent &e : *events) {
            if (e.endUs >= left && e.startUs <= right && e.worker >= 0)
                shown.push_back(&e);
        }
    }
    for (const SectionEvent *section : shown) {
        const SectionEvent &e = *section;
        const double y = plot.top() + e.worker * laneHeight + (laneHeight - barHeight) / 2.0;
        const double x0 = xOf(e.startUs);
        const double x1 = std::max(xOf(e.endUs), x0 + 1.5);
        const QRectF bar(x0, y, x1 - x0, barHeight);
        painter.fillRect(bar, fillFor(e.outcome, pal));
        if (e.stalled) {
            QColor hatch = text;
            hatch.setAlpha(150);
            painter.fillRect(bar, QBrush(hatch, Qt::BDiagPattern));
        }
        if (e.overlapped) {
            painter.setPen(QPen(red, 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(bar.adjusted(-1, -1, 1, 1));
        }
    }
    // Breaker transitions: every worker's Locker has its own breakers, so one outage opens
    // many at nearly the same time; one line per pixel column and kind is enough.
    double lastOpenX = -1e9, lastClosedX = -1e9;
    for (const BreakerMark &mark : m_breakerMarks) {
        if (mark.atUs < left || mark.atUs > right)
            continue;
        const double x = std::round(xOf(mark.atUs)) + 0.5;
        double &last = mark.open ? lastOpenX : lastClosedX;
        if (std::abs(x - last) < 3)
            continue;
        last = x;
        painter.setPen(QPen(mark.open ? theme::warning(pal) : theme::success(pal), 2, Qt::DashLine));
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        const QString tag = mark.open ? tr("breaker open") : tr("breaker closed");
        painter.drawText(QPointF(x + 3, plot.top() + fm.ascent() + 1), tag);
    }
    painter.restore();

    painter.setPen(grid);
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(QRectF(plot).adjusted(0.5, 0.5, -0.5, -0.5));

    if (shown.empty()) {
        painter.setPen(quiet);
        painter.drawText(plot, Qt::AlignCenter | Qt::TextWordWrap,
                         m_workers == 0 ? tr("Start a run to see who holds the lock when")
                                        : tr("No critical section in this %1 s")
                                              .arg(static_cast<double>(m_windowUs) / 1e6, 0, 'g', 2));
    }

    // Legend.
    const int legendTop = plot.bottom() + axisHeight + 2;
    for (size_t i = 0; i < legend.size(); ++i) {
        const LegendItem &item = legend[i];
        const int x = legendPos[i].x();
        const int y = legendTop + legendPos[i].y() * rowHeight;
        const QRect box(x, y + (rowHeight - swatch) / 2, swatch, swatch);
        switch (item.kind) {
        case 0:
            painter.fillRect(box, item.color);
            break;
        case 1:
            painter.fillRect(box, pal.color(QPalette::Highlight));
            painter.setPen(QPen(item.color, 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(box.adjusted(1, 1, -1, -1));
            break;
        default: {
            painter.fillRect(box, pal.color(QPalette::Highlight));
            QColor hatch = item.color;
            hatch.setAlpha(150);
            painter.fillRect(box, QBrush(hatch, Qt::BDiagPattern));
            break;
        }
        }
        painter.setPen(text);
        painter.drawText(QRect(x + swatch + 4, y, width(), rowHeight), Qt::AlignLeft | Qt::AlignVCenter,
                         item.text);
    }
}
