#include "locktext.h"

#include "models/locktablemodel.h"
#include "util/displaytext.h"

#include <QCoreApplication>
#include <QLocale>

using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;

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

QString readAt(const QDateTime &at, const QDateTime &now)
{
    return tr("read at %1").arg(clockTime(at, now));
}

QString counted(qint64 n, const QString &one, const QString &many)
{
    return QLocale().toString(n) + QLatin1Char(' ') + (n == 1 ? one : many);
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

QString labelOf(const LockRecord &record)
{
    if (const NodeEntry *entry = LockTableModel::majorityEntry(record); entry && entry->decoded)
        return entry->decoded->label;
    return {};
}

QString ownerText(const LockRecord &record)
{
    const QString owner = shortText(record.owner);
    const QString label = shortText(labelOf(record));
    if (owner.isEmpty() && label.isEmpty()) {
        if (record.schema.isEmpty())
            return tr("unknown: the value is not decoded");
        return tr("not recorded by %1").arg(record.schema);
    }
    if (label.isEmpty())
        return owner;
    if (owner.isEmpty())
        return QStringLiteral("\u201c%1\u201d").arg(label);
    // The label first: it names the service ("nightly export"), which an operator recognises
    // sooner than a host and pid.
    return QStringLiteral("\u201c%1\u201d \u2014 %2").arg(label, owner);
}

} // namespace locktext
