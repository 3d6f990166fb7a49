#pragma once

#include "sim/simconfig.h"
#include "sim/simulation.h"

#include <QString>

/// The simulator's figures in words, the same in the status line, the event log and the
/// statistics (and as lockctl simulate prints them).
namespace simtext {

// Times in µs: lockscope::formatMicros() (core/util/duration.h), shared with lockctl.

/// "0.7/s", "12.5/s", "1,234/s": a slow run's rate must not round to 0.
QString formatRate(double perSecond);

/// Per second over the running time (pauses excluded), as the run's summary gives it.
double perSecond(quint64 count, double seconds);

/// The run's lock: "mutex", "read/write lock, 80 % reads", "semaphore of 3 permits",
/// "fair lock", "reentrant lock".
QString lockKindText(const lockscope::sim::SimConfig &config);

/// The safety figure that belongs to the lock kind, as SimStats counts it (lockctl simulate
/// prints the same ones): the most holders at once (mutex, reentrant; a semaphore against its
/// permits), writer overlaps (read/write), order violations (fair).
struct KindFigure
{
    QString name;        ///< "Most holders", "Writer overlaps", "Order violations"
    QString value;       ///< "2 of 2 permits", "0 · reader overlaps 31 (allowed)"
    QString toolTip;     ///< what it counts and what the kind promises
    bool broken = false; ///< the kind's promise did not hold
};
KindFigure kindFigure(const lockscope::sim::SimConfig &config, const lockscope::sim::SimStats &stats);

} // namespace simtext
