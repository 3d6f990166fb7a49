#include "simstatsview.h"

#include "simtext.h"
#include "themecolors.h"
#include "util/duration.h"

#include <QEvent>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

using namespace lockscope::sim;
using namespace simtext;

namespace {

enum WorkerColumn
{
    WorkerColumnId,
    WorkerColumnAcquisitions,
    WorkerColumnFailed,
    WorkerColumnViolations,
    WorkerColumnRejected,
    WorkerColumnLost,
    WorkerColumnStalls,
    WorkerColumnDegraded,
    WorkerColumnBreakerRefusals,
    WorkerColumnClock,
    WorkerColumnHolding,
    WorkerColumnCount
};

QLabel *valueLabel(const QString &objectName)
{
    auto *label = new QLabel(QStringLiteral("–"));
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    return label;
}

} // namespace

SimStatsView::SimStatsView(QWidget *parent) : QWidget(parent)
{
    m_lockKind = valueLabel(QStringLiteral("simLockKind"));
    m_kindFigure = valueLabel(QStringLiteral("simKindFigure"));
    m_kindFigure->setWordWrap(true);
    m_acquisitions = valueLabel(QStringLiteral("simAcquisitions"));
    m_acquisitionRate = valueLabel(QStringLiteral("simAcquisitionRate"));
    m_failedRate = valueLabel(QStringLiteral("simFailedRate"));
    m_waitTimes = valueLabel(QStringLiteral("simWaitTimes"));
    m_holdTimes = valueLabel(QStringLiteral("simHoldTimes"));
    m_violations = valueLabel(QStringLiteral("simViolations"));
    m_rejections = valueLabel(QStringLiteral("simFencingRejections"));
    m_overlaps = valueLabel(QStringLiteral("simOverlaps"));
    m_lostLocks = valueLabel(QStringLiteral("simLostLocks"));
    m_fairness = valueLabel(QStringLiteral("simFairness"));
    m_keysLeft = valueLabel(QStringLiteral("simKeysLeft"));
    m_degraded = valueLabel(QStringLiteral("simDegradedAcquisitions"));
    m_degradedWrites = valueLabel(QStringLiteral("simDegradedWrites"));
    m_breakerRefusals = valueLabel(QStringLiteral("simBreakerRefusals"));
    m_breakerOpens = valueLabel(QStringLiteral("simBreakerOpens"));

    auto *grid = new QGridLayout;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(3);
    int row = 0;
    const auto pair = [&](int column, const QString &name, QLabel *value, const QString &tip) {
        auto *label = new QLabel(name);
        label->setToolTip(tip);
        value->setToolTip(tip);
        grid->addWidget(label, row, column * 2);
        grid->addWidget(value, row, column * 2 + 1);
    };
    const auto wide = [&](const QString &name, QLabel *value, const QString &tip) {
        auto *label = new QLabel(name);
        label->setToolTip(tip);
        value->setToolTip(tip);
        grid->addWidget(label, row, 0);
        grid->addWidget(value, row, 1, 1, 3);
        ++row;
    };
    wide(tr("Lock"), m_lockKind, tr("The lock kind of the run"));
    // Named by the kind (setRunConfig): "Most holders", "Writer overlaps", "Order violations".
    m_kindFigureName = new QLabel(tr("Most holders"));
    m_kindFigureName->setObjectName(QStringLiteral("simKindFigureName"));
    grid->addWidget(m_kindFigureName, row, 0);
    grid->addWidget(m_kindFigure, row, 1, 1, 3);
    ++row;
    pair(0, tr("Acquisitions"), m_acquisitions, tr("Locks obtained"));
    pair(1, tr("Per second"), m_acquisitionRate,
         tr("Acquisitions per second over the running time so far (pauses excluded); the throughput "
            "chart shows them over time"));
    ++row;
    pair(0, tr("Failed/s"), m_failedRate,
         tr("Failed attempts per second over the running time so far (also those of acquires that "
            "succeeded in the end)"));
    pair(1, tr("Fairness"), m_fairness,
         tr("Jain's index over the workers' acquisitions: 1 = all equal, 1/n = one took all"));
    ++row;
    pair(0, tr("Violations"), m_violations, tr("Writes accepted on a stale value: lost updates"));
    pair(1, tr("Rejected"), m_rejections, tr("Stale writes the resource refused thanks to fencing tokens"));
    ++row;
    pair(0, tr("Overlaps"), m_overlaps,
         tr("Critical sections on the same key that overlapped in time against the lock kind's rule "
            "(readers together and a semaphore's holders up to its permits do not count)"));
    pair(1, tr("Lost locks"), m_lostLocks, tr("Locks the watchdog reported lost"));
    ++row;
    pair(0, tr("Degraded"), m_degraded,
         tr("Acquisitions that took an in-process lock because too few nodes were usable for a quorum "
            "(degraded mode). The in-process table is shared by this whole process, so the simulated "
            "workers still exclude each other; separate processes would not"));
    pair(1, tr("Breaker opens"), m_breakerOpens,
         tr("Circuit breakers that opened (every worker's Locker has one per node); the Log lists each "
            "transition with its time"));
    ++row;
    pair(0, tr("Breaker refusals"), m_breakerRefusals,
         tr("Acquires refused at once because too many nodes' circuit breakers were open for a quorum"));
    pair(1, tr("Degraded writes"), m_degradedWrites,
         tr("Writes under a degraded lock: they carry no fencing token, so the resource counts them here "
            "instead of rejecting them, and still checks them for lost updates"));
    ++row;
    wide(tr("Wait"), m_waitTimes,
         tr("Time to obtain the lock: median (p50), 95th and 99th percentile of the blocking acquires "
            "(one that gave up counts until it gave up)"));
    wide(tr("Hold"), m_holdTimes, tr("Critical section length: median (p50) and 99th percentile"));
    wide(tr("Keys left"), m_keysLeft,
         tr("Lock keys still on a node after the final releases (known once the run has finished)"));
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(grid);
    layout->addWidget(createWorkersTable(), 1);
}

QWidget *SimStatsView::createWorkersTable()
{
    m_workerTable = new QTableWidget(0, WorkerColumnCount);
    m_workerTable->setObjectName(QStringLiteral("simWorkersTable"));
    // Short titles, so that the table fits a narrow dock; the tooltips say it in full.
    m_workerTable->setHorizontalHeaderLabels({tr("#"), tr("Acq."), tr("Failed"), tr("Viol."), tr("Rej."),
                                              tr("Lost"), tr("Stalls"), tr("Degr."), tr("Brk."), tr("Clock"),
                                              tr("Holds")});
    const QStringList tips{tr("Worker"),
                           tr("Acquisitions"),
                           tr("Failed attempts"),
                           tr("Violations: writes accepted on a stale value"),
                           tr("Fencing rejections: stale writes refused"),
                           tr("Locks lost: the watchdog reported it, or the release found it gone"),
                           tr("Stalled critical sections"),
                           tr("Degraded acquisitions: in-process locks taken while no quorum was usable"),
                           tr("Acquires refused by open circuit breakers"),
                           tr("Lock clock rate (1 = no drift)"),
                           tr("Holding a lock right now")};
    for (int column = 0; column < WorkerColumnCount; ++column)
        m_workerTable->horizontalHeaderItem(column)->setToolTip(tips[column]);
    m_workerTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_workerTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_workerTable->setAlternatingRowColors(true);
    m_workerTable->setShowGrid(false);
    m_workerTable->setWordWrap(false);
    m_workerTable->verticalHeader()->hide();
    m_workerTable->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_workerTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_workerTable->horizontalHeader()->setHighlightSections(false);
    m_workerTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_workerTable->horizontalHeader()->setStretchLastSection(true);
    m_workerTable->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_workerTable->setMinimumHeight(fontMetrics().height() * 6);
    return m_workerTable;
}

void SimStatsView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        showStats(m_stats, m_started);
}

void SimStatsView::setRunConfig(const SimConfig &config)
{
    m_config = config;
    m_configured = true;
    showStats(m_stats, m_started);
}

void SimStatsView::showStats(const SimStats &stats, bool started)
{
    m_stats = stats;
    m_started = started;
    const QLocale locale;
    QString kind = m_configured ? lockKindText(m_config) : QStringLiteral("–");
    kind[0] = kind[0].toUpper(); // a value of its own here, not part of a sentence
    m_lockKind->setText(kind);
    const KindFigure figure = kindFigure(m_config, stats);
    m_kindFigureName->setText(figure.name);
    m_kindFigureName->setToolTip(figure.toolTip);
    m_kindFigure->setToolTip(figure.toolTip);
    m_kindFigure->setText(started && m_configured ? figure.value : QStringLiteral("–"));
    const auto number = [&](quint64 value) {
        return started ? locale.toString(value) : QStringLiteral("–");
    };
    m_acquisitions->setText(number(stats.acquisitions));
    // Over the whole running time: the last sample's rate of a slow run is 0 or 1 by chance.
    m_acquisitionRate->setText(started ? formatRate(perSecond(stats.acquisitions, stats.elapsedSeconds))
                                       : QStringLiteral("–"));
    m_failedRate->setText(started ? formatRate(perSecond(stats.failedAttempts, stats.elapsedSeconds))
                                  : QStringLiteral("–"));
    m_violations->setText(number(stats.violations));
    m_rejections->setText(number(stats.fencingRejections));
    m_overlaps->setText(number(stats.overlaps));
    m_lostLocks->setText(number(stats.lostLocks));
    m_degraded->setText(number(stats.degradedAcquisitions));
    m_degradedWrites->setText(number(stats.degradedWrites));
    m_breakerRefusals->setText(number(stats.breakerRefusals));
    m_breakerOpens->setText(number(stats.breakerOpens));
    m_fairness->setText(started && stats.acquisitions > 0 ? locale.toString(stats.fairness, 'f', 3)
                                                          : QStringLiteral("–"));
    m_waitTimes->setText(started && stats.acquisitions > 0
                             ? tr("p50 %1 · p95 %2 · p99 %3")
                                   .arg(lockscope::formatMicros(stats.waitP50Us),
                                        lockscope::formatMicros(stats.waitP95Us),
                                        lockscope::formatMicros(stats.waitP99Us))
                             : QStringLiteral("–"));
    m_holdTimes->setText(
        started && stats.acquisitions > 0
            ? tr("p50 %1 · p99 %2")
                  .arg(lockscope::formatMicros(stats.holdP50Us), lockscope::formatMicros(stats.holdP99Us))
            : QStringLiteral("–"));
    m_keysLeft->setText(stats.state == SimState::Finished ? locale.toString(stats.keysLeft)
                                                          : QStringLiteral("–"));
    const QPalette pal = palette();
    theme::setTextColor(m_violations, stats.violations > 0 ? theme::danger(pal) : QColor());
    theme::setTextColor(m_rejections, stats.fencingRejections > 0 ? theme::warning(pal) : QColor());
    theme::setTextColor(m_overlaps, stats.overlaps > 0 ? theme::danger(pal) : QColor());
    // Availability kept at the price of cross-process exclusion: worth a look, not a failure.
    theme::setTextColor(m_degraded, stats.degradedAcquisitions > 0 ? theme::warning(pal) : QColor());
    theme::setTextColor(m_breakerOpens, stats.breakerOpens > 0 ? theme::warning(pal) : QColor());
    // A fair lock out of order loses no update: a warning, not a safety failure.
    theme::setTextColor(m_kindFigure, !started || !figure.broken               ? QColor()
                                      : m_config.lockKind == SimLockKind::Fair ? theme::warning(pal)
                                                                               : theme::danger(pal));
    theme::setTextColor(
        m_keysLeft, stats.state == SimState::Finished && stats.keysLeft > 0 ? theme::danger(pal) : QColor());
    updateWorkers(stats);
}

void SimStatsView::updateWorkers(const SimStats &stats)
{
    const int rows = static_cast<int>(stats.workers.size());
    if (m_workerTable->rowCount() != rows) {
        m_workerTable->setRowCount(rows);
        for (int row = 0; row < rows; ++row) {
            for (int column = 0; column < WorkerColumnCount; ++column) {
                auto *item = new QTableWidgetItem;
                item->setTextAlignment(column == WorkerColumnHolding ? Qt::Alignment(Qt::AlignCenter)
                                                                     : Qt::AlignRight | Qt::AlignVCenter);
                m_workerTable->setItem(row, column, item);
            }
        }
    }
    const QLocale locale;
    const QColor danger = theme::danger(palette());
    const auto set = [&](int row, int column, const QString &text, const QColor &color = {}) {
        QTableWidgetItem *item = m_workerTable->item(row, column);
        if (item->text() != text)
            item->setText(text);
        const QVariant foreground = color.isValid() ? QVariant(color) : QVariant();
        if (item->data(Qt::ForegroundRole) != foreground)
            item->setData(Qt::ForegroundRole, foreground);
    };
    for (int row = 0; row < rows; ++row) {
        const WorkerStats &w = stats.workers[size_t(row)];
        set(row, WorkerColumnId, QString::number(w.worker));
        set(row, WorkerColumnAcquisitions, locale.toString(w.acquisitions));
        set(row, WorkerColumnFailed, locale.toString(w.failedAttempts));
        set(row, WorkerColumnViolations, locale.toString(w.violations), w.violations > 0 ? danger : QColor());
        set(row, WorkerColumnRejected, locale.toString(w.fencingRejections));
        // As lockctl simulate counts them: the watchdog lost it, or the release found it gone.
        set(row, WorkerColumnLost, locale.toString(w.lostLocks + w.expiredBeforeRelease));
        set(row, WorkerColumnStalls, locale.toString(w.stalls));
        set(row, WorkerColumnDegraded, locale.toString(w.degradedAcquisitions));
        set(row, WorkerColumnBreakerRefusals, locale.toString(w.breakerRefusals));
        set(row, WorkerColumnClock,
            w.clockRate == 1.0 ? QStringLiteral("1") : QString::number(w.clockRate, 'g', 3));
        set(row, WorkerColumnHolding, w.holding ? QStringLiteral("●") : QString());
    }
}
