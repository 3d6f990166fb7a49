#pragma once

#include <QString>

/// The simulator's figures in words, the same in the status line, the event log and the
/// statistics (and as lockctl simulate prints them).
namespace simtext {

// Times in µs: lockscope::formatMicros() (core/util/duration.h), shared with lockctl.

/// "0.7/s", "12.5/s", "1,234/s": a slow run's rate must not round to 0.
QString formatRate(double perSecond);

/// Per second over the running time (pauses excluded), as the run's summary gives it.
double perSecond(quint64 count, double seconds);

} // namespace simtext
