#include "simtext.h"

#include <QCoreApplication>
#include <QLocale>
#include <cmath>

using namespace lockscope::sim;

namespace simtext {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("simtext", text);
}

} // namespace

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

QString lockKindText(const SimConfig &config)
{
    const QLocale locale;
    switch (config.lockKind) {
    case SimLockKind::Mutex:
        return tr("mutex");
    case SimLockKind::ReadWrite:
        return tr("read/write lock, %1 % reads")
            .arg(locale.toString(std::round(config.effectiveReadRatio() * 1000.0) / 10.0, 'g', 4));
    case SimLockKind::Semaphore:
        return config.permits == 1 ? tr("semaphore of 1 permit")
                                   : tr("semaphore of %1 permits").arg(locale.toString(config.permits));
    case SimLockKind::Fair:
        return tr("fair lock");
    case SimLockKind::Reentrant:
        return tr("reentrant lock");
    }
    return {};
}

KindFigure kindFigure(const SimConfig &config, const SimStats &stats)
{
    const QLocale locale;
    KindFigure figure;
    switch (config.lockKind) {
    case SimLockKind::ReadWrite:
        // SimStats::overlaps counts a writer with anyone at once; readers together are the
        // concurrency the lock allows, counted apart.
        figure.name = tr("Writer overlaps");
        figure.value = tr("%1 · reader overlaps %2 (allowed)")
                           .arg(locale.toString(stats.overlaps), locale.toString(stats.readerOverlaps));
        figure.toolTip = tr("A writer on a key while anyone else held it: the read/write lock promises none. "
                            "Readers together are allowed and counted apart (pairs of readers at once).");
        figure.broken = stats.overlaps > 0;
        return figure;
    case SimLockKind::Semaphore:
        figure.name = tr("Most holders");
        figure.value = config.permits == 1
                           ? tr("%1 of 1 permit").arg(locale.toString(stats.maxHolders))
                           : tr("%1 of %2 permits")
                                 .arg(locale.toString(stats.maxHolders), locale.toString(config.permits));
        figure.toolTip =
            tr("Most critical sections on one key at once; the semaphore allows up to its permits");
        figure.broken = stats.maxHolders > config.permits;
        return figure;
    case SimLockKind::Fair:
        figure.name = tr("Order violations");
        // With pub/sub wake-up no waiter sleeps on its clock, so none is ever ahead of another
        // in the resource's queue: the figure would be 0 whatever the lock did.
        figure.value = config.wakeup == Wakeup::PubSub ? tr("not counted with pub/sub wake-up")
                                                       : locale.toString(stats.orderViolations);
        figure.toolTip = tr("Sections that began while a worker that had waited longer for the key still "
                            "waited: the fair lock serves waiters in arrival order and promises none");
        figure.broken = config.wakeup != Wakeup::PubSub && stats.orderViolations > 0;
        return figure;
    case SimLockKind::Mutex:
    case SimLockKind::Reentrant:
        break;
    }
    figure.name = tr("Most holders");
    figure.value = tr("%1 at once").arg(locale.toString(stats.maxHolders));
    if (config.lockKind == SimLockKind::Reentrant)
        figure.value += QStringLiteral(" · ") + tr("%1 re-entries").arg(locale.toString(stats.reentries));
    figure.toolTip = config.lockKind == SimLockKind::Reentrant
                         ? tr("Most critical sections on one key at once (the lock allows one holder); "
                              "re-entries: second holds taken inside a critical section")
                         : tr("Most critical sections on one key at once (the lock allows one holder)");
    figure.broken = stats.maxHolders > 1;
    return figure;
}

} // namespace simtext
