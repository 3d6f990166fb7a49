#include "simtext.h"

#include <QLocale>

namespace simtext {

QString formatRate(double perSecond)
{
    const QLocale locale;
    if (perSecond <= 0)
        return QStringLiteral("0/s");
    if (perSecond < 0.1)
        return locale.toString(perSecond, 'g', 2) + QStringLiteral("/s");
    return locale.toString(perSecond, 'f', perSecond < 100 ? 1 : 0) + QStringLiteral("/s");
}

double perSecond(quint64 count, double seconds)
{
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

} // namespace simtext
