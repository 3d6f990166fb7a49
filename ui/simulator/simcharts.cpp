#include "simcharts.h"

#include "simtimeline.h"
#include "themecolors.h"

#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLineSeries>
#include <QTabWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

using lockscope::sim::SectionEvent;
using lockscope::sim::ThroughputSample;

namespace {

/// Lower bound of a wait-histogram bucket: "<2µs", "2µs", "4µs" … "512µs", "1ms", "2ms" …
QString bucketLabel(int bucket)
{
    if (bucket <= 0)
        return QStringLiteral("<2µs");
    const double us = std::ldexp(1.0, bucket);
    if (us < 1000)
        return QStringLiteral("%1µs").arg(static_cast<qint64>(us));
    if (us < 1e6)
        return QStringLiteral("%1ms").arg(std::llround(us / 1e3));
    const double s = us / 1e6;
    return s < 10 ? QStringLiteral("%1s").arg(QString::number(s, 'f', 1).remove(QStringLiteral(".0")))
                  : QStringLiteral("%1s").arg(std::llround(s));
}

/// Lower bound of a bucket as an axis boundary: "0", "2µs", "4µs" … "1ms" …
QString boundaryLabel(int bucket)
{
    return bucket <= 0 ? QStringLiteral("0") : bucketLabel(bucket);
}

/// A bucket's range for tooltips: "<2µs", "4µs – 8µs".
QString bucketRange(int bucket)
{
    return bucket <= 0 ? bucketLabel(0)
                       : QStringLiteral("%1 – %2").arg(bucketLabel(bucket), bucketLabel(bucket + 1));
}

QChart *newChart()
{
    auto *chart = new QChart;
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->setAnimationOptions(QChart::NoAnimation);
    return chart;
}

QChartView *newChartView(QChart *chart, const QString &objectName)
{
    auto *view = new QChartView(chart);
    view->setObjectName(objectName);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(160, 120);
    return view;
}

} // namespace

SimCharts::SimCharts(QWidget *parent) : QWidget(parent)
{
    // Throughput over time.
    QChart *throughput = newChart();
    m_acquisitionSeries = new QLineSeries;
    m_acquisitionSeries->setName(tr("Acquisitions/s"));
    m_failedSeries = new QLineSeries;
    m_failedSeries->setName(tr("Failed attempts/s"));
    throughput->addSeries(m_acquisitionSeries);
    throughput->addSeries(m_failedSeries);
    m_throughputX = new QValueAxis;
    m_throughputX->setLabelFormat(QStringLiteral("%.0f s"));
    m_throughputX->setRange(0, 10);
    m_throughputX->setTickCount(6);
    // Two scales: failed attempts (every retry of a waiting worker) can outnumber acquisitions
    // a hundredfold, and on one axis they would flatten the acquisitions line.
    const auto rateAxis = [](const QString &title) {
        auto *axis = new QValueAxis;
        axis->setLabelFormat(QStringLiteral("%.0f"));
        axis->setRange(0, 10);
        axis->setTickCount(6);
        axis->setTitleText(title);
        QFont font = axis->titleFont();
        font.setBold(false);
        axis->setTitleFont(font);
        return axis;
    };
    m_throughputY = rateAxis(tr("acquisitions/s"));
    m_throughputY->setObjectName(QStringLiteral("simAcquisitionAxis"));
    m_failedY = rateAxis(tr("failed/s"));
    m_failedY->setObjectName(QStringLiteral("simFailedAxis"));
    m_failedY->setGridLineVisible(false); // one grid, the acquisitions'
    throughput->addAxis(m_throughputX, Qt::AlignBottom);
    throughput->addAxis(m_throughputY, Qt::AlignLeft);
    throughput->addAxis(m_failedY, Qt::AlignRight);
    m_acquisitionSeries->attachAxis(m_throughputX);
    m_acquisitionSeries->attachAxis(m_throughputY);
    m_failedSeries->attachAxis(m_throughputX);
    m_failedSeries->attachAxis(m_failedY);
    throughput->legend()->setAlignment(Qt::AlignBottom);
    m_throughputView = newChartView(throughput, QStringLiteral("simThroughputChart"));

    // Wait times (log2 buckets). Bars on a value axis, labelled at the bucket boundaries
    // (as many as fit), so that a run with waits from microseconds to seconds stays readable.
    QChart *histogram = newChart();
    m_histogramSet = new QBarSet(tr("Acquires"));
    auto *bars = new QBarSeries;
    bars->setBarWidth(0.92);
    bars->append(m_histogramSet);
    histogram->addSeries(bars);
    m_histogramX = new QCategoryAxis;
    m_histogramX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_histogramX->setTitleText(tr("wait for the lock"));
    QFont title = m_histogramX->titleFont();
    title.setBold(false);
    m_histogramX->setTitleFont(title);
    m_histogramX->setRange(-0.5, 5.5);
    m_histogramX->setGridLineVisible(false);
    m_histogramY = new QValueAxis;
    m_histogramY->setLabelFormat(QStringLiteral("%.0f"));
    m_histogramY->setRange(0, 10);
    m_histogramY->setTickCount(6);
    histogram->addAxis(m_histogramX, Qt::AlignBottom);
    histogram->addAxis(m_histogramY, Qt::AlignLeft);
    bars->attachAxis(m_histogramX);
    bars->attachAxis(m_histogramY);
    histogram->legend()->hide();
    m_histogramView = newChartView(histogram, QStringLiteral("simWaitChart"));
    m_histogramView->installEventFilter(this);
    connect(bars, &QBarSeries::hovered, this, [this](bool status, int index) {
        if (!status || m_histogramRange.first < 0) {
            QToolTip::hideText();
            return;
        }
        const int bucket = m_histogramRange.first + index;
        const auto count = qint64(m_histogramSet->at(index));
        QToolTip::showText(
            QCursor::pos(),
            (count == 1 ? tr("%1: %L2 acquire") : tr("%1: %L2 acquires")).arg(bucketRange(bucket)).arg(count),
            m_histogramView);
    });

    m_timeline = new SimTimeline;
    m_timeline->setObjectName(QStringLiteral("simTimeline"));

    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("simCharts"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_throughputView, tr("Throughput"));
    m_tabs->addTab(m_histogramView, tr("Wait times"));
    m_tabs->addTab(m_timeline, tr("Timeline"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
    // Laid out (in the panel's splitter) as the tab widget would be on its own.
    setSizePolicy(m_tabs->sizePolicy());

    applyColors();
}

void SimCharts::reset(int workers)
{
    m_timeline->clear();
    m_timeline->setWorkerCount(workers);
    m_acquisitionSeries->clear();
    m_failedSeries->clear();
    m_acquisitionMax = 0;
    m_failedMax = 0;
    m_throughputX->setRange(0, 10);
    for (QValueAxis *axis : {m_throughputY, m_failedY}) {
        axis->setRange(0, 10);
        axis->setTickCount(6);
        axis->setLabelFormat(QStringLiteral("%.0f"));
    }
    m_histogramSet->remove(0, m_histogramSet->count());
    m_histogramRange = {-1, -1};
    labelHistogram();
    m_histogramY->setRange(0, 10);
    m_histogramY->setTickCount(6);
}

void SimCharts::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        applyColors();
}

bool SimCharts::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_histogramView && event->type() == QEvent::Resize)
        labelHistogram();
    return QWidget::eventFilter(watched, event);
}

void SimCharts::applyColors()
{
    if (!m_throughputView)
        return;
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(45);
    for (QChartView *view : {m_throughputView, m_histogramView}) {
        QChart *chart = view->chart();
        chart->setBackgroundBrush(pal.color(QPalette::Base));
        chart->setBackgroundPen(Qt::NoPen);
        chart->legend()->setLabelColor(text);
        view->setBackgroundBrush(pal.color(QPalette::Base));
        for (QAbstractAxis *axis : chart->axes()) {
            axis->setLabelsColor(text);
            axis->setTitleBrush(text);
            axis->setLinePenColor(grid);
            axis->setGridLineColor(grid);
        }
    }
    QPen acquisitions(pal.color(QPalette::Highlight), 2);
    m_acquisitionSeries->setPen(acquisitions);
    m_failedSeries->setPen(QPen(theme::warning(pal), 1.5));
    // Each rate axis in the colour of its line, so that it is clear which scale is which.
    m_throughputY->setTitleBrush(pal.color(QPalette::Highlight));
    m_throughputY->setLabelsColor(pal.color(QPalette::Highlight));
    m_failedY->setTitleBrush(theme::warning(pal));
    m_failedY->setLabelsColor(theme::warning(pal));
    m_histogramSet->setColor(pal.color(QPalette::Highlight));
    m_histogramSet->setBorderColor(pal.color(QPalette::Highlight));
}

void SimCharts::setHistogram(const std::vector<quint64> &buckets)
{
    int first = -1;
    int last = -1;
    quint64 highest = 0;
    for (int i = 0; i < int(buckets.size()); ++i) {
        if (buckets[size_t(i)] == 0)
            continue;
        if (first < 0)
            first = i;
        last = i;
        highest = std::max(highest, buckets[size_t(i)]);
    }
    if (first < 0) {
        if (m_histogramRange.first >= 0) {
            m_histogramSet->remove(0, m_histogramSet->count());
            m_histogramRange = {-1, -1};
            labelHistogram();
        }
        return;
    }
    // At least a few buckets wide, so that one bar does not fill the chart.
    while (last - first < 5 && (first > 0 || last + 1 < int(buckets.size()))) {
        if (first > 0)
            --first;
        if (last - first < 5 && last + 1 < int(buckets.size()))
            ++last;
    }
    if (m_histogramRange != std::make_pair(first, last)) {
        m_histogramRange = {first, last};
        QList<qreal> values;
        for (int i = first; i <= last; ++i)
            values << static_cast<qreal>(buckets[size_t(i)]);
        m_histogramSet->remove(0, m_histogramSet->count());
        m_histogramSet->append(values);
        labelHistogram();
    } else {
        for (int i = first; i <= last; ++i) {
            const qreal value = static_cast<qreal>(buckets[size_t(i)]);
            if (m_histogramSet->at(i - first) != value)
                m_histogramSet->replace(i - first, value);
        }
    }
    const double top = std::max(10.0, static_cast<double>(highest) * 1.1);
    if (std::abs(m_histogramY->max() - top) > top * 0.05) {
        m_histogramY->setRange(0, top);
        m_histogramY->applyNiceNumbers();
    }
}

void SimCharts::labelHistogram()
{
    for (const QString &label : m_histogramX->categoriesLabels())
        m_histogramX->remove(label);
    const auto [first, last] = m_histogramRange;
    if (first < 0) {
        m_histogramX->setRange(-0.5, 5.5);
        return;
    }
    const int buckets = last - first + 1;
    m_histogramX->setStartValue(-1.0);
    m_histogramX->setRange(-0.5, buckets - 0.5);
    // Every boundary when they fit, else every second, third, ...
    const int labelWidth = fontMetrics().horizontalAdvance(QStringLiteral("512µs")) + 10;
    const int fit = std::max(2, (m_histogramView->width() - 60) / labelWidth);
    const int every = std::max(1, (buckets + fit - 1) / fit);
    for (int i = 0; i < buckets; i += every)
        m_histogramX->append(boundaryLabel(first + i), i - 0.5);
}

void SimCharts::appendSamples(const std::vector<ThroughputSample> &samples)
{
    if (samples.empty())
        return;
    QList<QPointF> acquisitions;
    QList<QPointF> failed;
    for (const ThroughputSample &s : samples) {
        acquisitions << QPointF(s.seconds, s.acquisitionsPerSec);
        failed << QPointF(s.seconds, s.failedAttemptsPerSec);
        m_acquisitionMax = std::max(m_acquisitionMax, s.acquisitionsPerSec);
        m_failedMax = std::max(m_failedMax, s.failedAttemptsPerSec);
    }
    m_acquisitionSeries->append(acquisitions);
    m_failedSeries->append(failed);
    const double seconds = samples.back().seconds;
    m_throughputX->setRange(0, std::max(10.0, std::ceil(seconds / 5.0 - 1e-3) * 5.0));
    // Each scale fits its own line (at least 0 to 1, so that a slow run's 0.7/s is not a flat line
    // at the bottom of a 0 to 10 axis).
    for (const auto &[axis, highest] :
         {std::pair{m_throughputY, m_acquisitionMax}, std::pair{m_failedY, m_failedMax}}) {
        axis->setRange(0, std::max(1.0, highest * 1.1));
        axis->applyNiceNumbers();
        axis->setLabelFormat(axis->max() < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
    }
}

void SimCharts::appendEvents(const std::vector<SectionEvent> &events)
{
    if (!events.empty())
        m_timeline->addEvents(events);
}

void SimCharts::setNow(qint64 us)
{
    m_timeline->setNow(std::max(m_timeline->lastEndUs(), us));
}

void SimCharts::showRun(qint64 runUs)
{
    m_timeline->showRun(runUs);
}
