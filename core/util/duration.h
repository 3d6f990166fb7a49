#pragma once

#include <QString>
#include <chrono>
#include <optional>

namespace lockscope {

/// Parses "250ms", "2s", "1.5s", "3m", "1h" or a bare integer (milliseconds).
/// Returns nullopt for anything else, including negative values.
std::optional<std::chrono::milliseconds> parseDuration(QStringView text);

/// Formats a duration compactly: "850ms", "2s", "1.5s", "3m", "1h2m".
QString formatDuration(std::chrono::milliseconds value);

} // namespace lockscope
