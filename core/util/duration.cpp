#include "duration.h"

#include <cmath>

namespace lockscope {

namespace {

/// Milliseconds per unit; 0 for an unknown unit.
double unitFactor(QStringView unit)
{
    if (unit == u"ms")
        return 1;
    if (unit == u"s")
        return 1000;
    if (unit == u"m" || unit == u"min")
        return 60'000;
    if (unit == u"h")
        return 3'600'000;
    return 0;
}

} // namespace

std::optional<std::chrono::milliseconds> parseDuration(QStringView text)
{
    text = text.trimmed();
    if (text.isEmpty())
        return std::nullopt;
    bool bare = false;
    if (text.toDouble(&bare) == 0 && bare)
        return std::chrono::milliseconds(0); // zero is zero in any unit
    // One or more parts, each a number and a unit, the units from large to small with none
    // twice: "1.5s", "1h2m", "1m30.25s" (what formatDuration() writes).
    double total = 0;
    double previousFactor = 0;
    qsizetype at = 0;
    while (at < text.size()) {
        qsizetype split = at;
        while (split < text.size() && (text[split].isDigit() || text[split] == QLatin1Char('.')))
            ++split;
        qsizetype unitStart = split;
        while (unitStart < text.size() && text[unitStart].isSpace()) // "5 s" reads as "5s"
            ++unitStart;
        qsizetype unitEnd = unitStart;
        while (unitEnd < text.size() && text[unitEnd].isLetter())
            ++unitEnd;
        const QStringView number = text.sliced(at, split - at);
        bool ok = false;
        const double value = number.toDouble(&ok);
        const double factor = unitFactor(text.sliced(unitStart, unitEnd - unitStart));
        if (!ok || number.isEmpty() || !std::isfinite(value) || value < 0 || factor == 0)
            return std::nullopt;
        if (previousFactor != 0 && factor >= previousFactor)
            return std::nullopt;
        previousFactor = factor;
        total += value * factor;
        at = unitEnd; // a space between parts ("1h 2m") is an error: one syntax to document
    }
    if (total > 1e15)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<qint64>(std::llround(total)));
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
    // Exact, so that parseDuration() reads back every value: the largest units first, and
    // seconds with up to three decimals ("1m30.5s", "1h0.25s").
    const qint64 ms = value.count();
    if (ms < 1000)
        return QStringLiteral("%1ms").arg(ms);
    const qint64 hours = ms / 3'600'000;
    const qint64 minutes = (ms % 3'600'000) / 60'000;
    const qint64 seconds = (ms % 60'000) / 1000;
    const qint64 millis = ms % 1000;
    QString text;
    if (hours)
        text += QStringLiteral("%1h").arg(hours);
    if (minutes)
        text += QStringLiteral("%1m").arg(minutes);
    if (seconds || millis) {
        text += QString::number(seconds);
        if (millis) {
            QString fraction = QStringLiteral("%1").arg(millis, 3, 10, QLatin1Char('0'));
            while (fraction.endsWith(QLatin1Char('0')))
                fraction.chop(1);
            text += QLatin1Char('.') + fraction;
        }
        text += QLatin1Char('s');
    }
    return text;
}

QString formatMicros(quint64 us)
{
    if (us >= 1'000'000)
        return QStringLiteral("%1 s").arg(static_cast<double>(us) / 1e6, 0, 'f', 2);
    if (us >= 1000)
        return QStringLiteral("%1 ms").arg(static_cast<double>(us) / 1e3, 0, 'f', 1);
    return QStringLiteral("%1 µs").arg(us);
}

QString formatLatency(std::chrono::microseconds latency, const QLocale &locale)
{
    const double ms = double(latency.count()) / 1000.0;
    const QString unit = QStringLiteral(" ms");
    if (ms < 9.995) // rounds to at most 9.99
        return locale.toString(ms, 'f', 2) + unit;
    if (ms < 99.95)
        return locale.toString(ms, 'f', 1) + unit;
    return locale.toString(qRound64(ms)) + unit;
}

} // namespace lockscope
