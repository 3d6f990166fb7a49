#include "duration.h"

#include <cmath>

namespace lockscope {

std::optional<std::chrono::milliseconds> parseDuration(QStringView text)
{
    text = text.trimmed();
    if (text.isEmpty())
        return std::nullopt;
    qsizetype split = 0;
    while (split < text.size() && (text[split].isDigit() || text[split] == QLatin1Char('.')))
        ++split;
    const QStringView number = text.left(split);
    const QStringView unit = text.mid(split).trimmed();
    bool ok = false;
    const double value = number.toDouble(&ok);
    if (!ok || number.isEmpty() || !std::isfinite(value) || value < 0)
        return std::nullopt;
    double factor = 0;
    if (unit.isEmpty() && value == 0)
        factor = 1; // zero is zero in any unit
    else if (unit == u"ms")
        factor = 1;
    else if (unit == u"s")
        factor = 1000;
    else if (unit == u"m" || unit == u"min")
        factor = 60'000;
    else if (unit == u"h")
        factor = 3'600'000;
    else
        return std::nullopt;
    const double ms = value * factor;
    if (ms > 1e15)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<qint64>(std::llround(ms)));
}

QString durationProblem(QStringView text)
{
    if (parseDuration(text))
        return {};
    const QStringView trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return QStringLiteral("empty: give a duration such as 500ms, 30s or 5m");
    bool number = false;
    const double value = trimmed.toDouble(&number);
    if (number && value >= 0)
        return QStringLiteral("\"%1\" has no unit: write %1ms, %1s or %1m").arg(trimmed);
    return QStringLiteral("\"%1\" is not a duration: use a number and a unit, e.g. 500ms, 30s, 5m, 1h")
        .arg(trimmed);
}

QString formatDuration(std::chrono::milliseconds value)
{
    const qint64 ms = value.count();
    if (ms < 1000)
        return QStringLiteral("%1ms").arg(ms);
    if (ms < 60'000) {
        if (ms % 1000 == 0)
            return QStringLiteral("%1s").arg(ms / 1000);
        return QStringLiteral("%1s").arg(static_cast<double>(ms) / 1000.0, 0, 'g', 4);
    }
    if (ms < 3'600'000) {
        const qint64 minutes = ms / 60'000;
        const qint64 seconds = (ms % 60'000) / 1000;
        return seconds ? QStringLiteral("%1m%2s").arg(minutes).arg(seconds)
                       : QStringLiteral("%1m").arg(minutes);
    }
    const qint64 hours = ms / 3'600'000;
    const qint64 minutes = (ms % 3'600'000) / 60'000;
    return minutes ? QStringLiteral("%1h%2m").arg(hours).arg(minutes) : QStringLiteral("%1h").arg(hours);
}

} // namespace lockscope
