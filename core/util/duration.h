#pragma once

#include <QLocale>
#include <QString>
#include <chrono>
#include <optional>

namespace lockscope {

/// Parses "250ms", "2s", "1.5s", "3m", "1h", and compounds with the units from large to small
/// ("1h2m", "1m30.5s": what formatDuration() writes). A unit is required: a bare number ("30") is
/// rejected, since "--ttl 30" meaning 30 ms (not 30 s) is a trap; only "0" may go without. Returns nullopt
/// for anything else, including negative values.
std::optional<std::chrono::milliseconds> parseDuration(QStringView text);

/// Why parseDuration() rejects `text`, worded for the user ("add a unit: 30ms, 30s or 30m",
/// "not a duration: ..."); empty when it parses.
QString durationProblem(QStringView text);

/// Formats a duration compactly and exactly: "850ms", "2s", "1.5s", "3m", "1h2m", "1m30.25s".
/// parseDuration() reads every value it writes back to the same number of milliseconds.
QString formatDuration(std::chrono::milliseconds value);

/// A measured time in microseconds, for people: "850 µs", "3.4 ms", "1.25 s" (wait and hold
/// percentiles of the simulator, in lockctl and the app alike).
QString formatMicros(quint64 us);

/// A round trip in milliseconds with three significant digits: "0.42 ms", "12.3 ms", "250 ms"
/// (a node's PING in lockctl ping, the app's node list and the connection test). `locale` sets
/// the decimal separator: the C locale for lockctl's output, the user's in the app.
QString formatLatency(std::chrono::microseconds latency, const QLocale &locale = QLocale::c());

} // namespace lockscope
