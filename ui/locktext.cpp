#include "locktext.h"

#include "models/locktablemodel.h"
#include "util/displaytext.h"

#include <QCoreApplication>
#include <QLocale>

using lockscope::inspect::LockRecord;

namespace locktext {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("locktext", text);
}

} // namespace

QString clockTime(const QDateTime &at, const QDateTime &now)
{
    if (!at.isValid())
        return {};
    const QDateTime local = at.toLocalTime();
    if (local.date() == now.toLocalTime().date())
        return QLocale().toString(local.time(), QStringLiteral("HH:mm:ss"));
    return QLocale().toString(local, QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QDateTime expiresAt(const LockRecord &record)
{
    if (record.held == 0 || record.minPttlMs < 0 || !record.readAt.isValid())
        return {};
    return record.readAt.addMSecs(record.minPttlMs);
}

qint64 remainingMs(const LockRecord &record, SteadyClock::time_point now)
{
    if (record.held == 0 || record.minPttlMs < 0)
        return -1;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - record.readAtSteady);
    return record.minPttlMs - elapsed.count();
}

QString ttlNow(const LockRecord &record, SteadyClock::time_point now, const QDateTime &wallNow)
{
    if (record.held == 0)
        return QStringLiteral("\u2014");
    if (record.minPttlMs < 0)
        return tr("none: the key never expires");
    const qint64 left = remainingMs(record, now);
    const QString until = clockTime(expiresAt(record), wallNow);
    if (left <= 0)
        return tr("ran out at %1").arg(until);
    return tr("%1 left, until %2").arg(LockTableModel::formatCountdown(left), until);
}

qint64 holderRemainingMs(const LockRecord &record, const lockscope::inspect::LockHolder &holder,
                         SteadyClock::time_point now)
{
    if (holder.pttlMs < 0)
        return -1;
    return holder.pttlMs -
           std::chrono::duration_cast<std::chrono::milliseconds>(now - record.readAtSteady).count();
}

QString holderTtlNow(const LockRecord &record, const lockscope::inspect::LockHolder &holder,
                     SteadyClock::time_point now, const QDateTime &wallNow)
{
    if (holder.pttlMs < 0)
        return tr("no TTL");
    const qint64 left = holderRemainingMs(record, holder, now);
    const QString until = clockTime(record.readAt.addMSecs(holder.pttlMs), wallNow);
    if (left <= 0)
        return tr("ran out at %1").arg(until);
    return tr("%1 left, until %2").arg(LockTableModel::formatCountdown(left), until);
}

QString holderNoun(const LockRecord &record, const lockscope::inspect::LockHolder &holder)
{
    namespace lockKind = lockscope::inspect::lockKind;
    const QString &mode = holder.mode.isEmpty() ? record.kind : holder.mode;
    if (mode == QLatin1String(lockKind::Read))
        return tr("reader");
    if (mode == QLatin1String(lockKind::Write))
        return tr("writer");
    if (record.kind == QLatin1String(lockKind::Semaphore))
        return tr("permit");
    return tr("holder");
}

QString readAt(const QDateTime &at, const QDateTime &now)
{
    return tr("read at %1").arg(clockTime(at, now));
}

QString counted(qint64 n, const QString &one, const QString &many)
{
    return (n == 1 ? one : many).arg(QLocale().toString(n));
}

QString shortText(QByteArrayView bytes, qsizetype maxChars)
{
    return lockscope::displayTextPrefix(bytes, maxChars);
}

QString shortText(const QString &text, qsizetype maxChars)
{
    if (text.size() <= maxChars)
        return lockscope::displayText(text);
    QString shown = lockscope::displayText(QStringView(text).first(maxChars).toString());
    shown.truncate(maxChars);
    return shown + QCoreApplication::translate("locktext", "… (%1 characters in all)")
                       .arg(QLocale().toString(text.size()));
}

} // namespace locktext
