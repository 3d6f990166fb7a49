#pragma once

#include "inspect/lockrecord.h"

#include <QDateTime>
#include <QString>
#include <chrono>

/// The words every view uses for the same facts of a lock (owner, TTL, expiry, read time), so
/// that the table, Details and the action dialogs never disagree.
namespace locktext {

using SteadyClock = std::chrono::steady_clock;

/// A wall-clock moment for people, in local time: "14:03:22" when it is today (of `now`),
/// "2026-12-03 14:03:22" otherwise. Empty for an invalid time.
QString clockTime(const QDateTime &at, const QDateTime &now = QDateTime::currentDateTime());

/// When the record's smallest TTL runs out by the wall clock (its read time plus the TTL);
/// invalid when no holder has a TTL.
QDateTime expiresAt(const lockscope::inspect::LockRecord &record);

/// Milliseconds left on the record's smallest TTL at `now` (counted down from its read);
/// -1 without a TTL; negative once it ran out.
qint64 remainingMs(const lockscope::inspect::LockRecord &record,
                   SteadyClock::time_point now = SteadyClock::now());

/// The TTL as it stands now: "5m 25s left, until 14:08:47", "ran out at 14:08:47",
/// "none: the key never expires", or "—" when no node holds the key.
QString ttlNow(const lockscope::inspect::LockRecord &record, SteadyClock::time_point now = SteadyClock::now(),
               const QDateTime &wallNow = QDateTime::currentDateTime());

/// Milliseconds left on one holder's own TTL at `now`, counted down from the record's read; -1
/// without a TTL; 0 or less once it ran out.
qint64 holderRemainingMs(const lockscope::inspect::LockRecord &record,
                         const lockscope::inspect::LockHolder &holder,
                         SteadyClock::time_point now = SteadyClock::now());

/// One holder's TTL as it stands now (a reader, a permit: each has its own deadline), counted
/// down from the record's read: "12.4 s left, until 14:08:47", "ran out at 14:08:47", "no TTL".
QString holderTtlNow(const lockscope::inspect::LockRecord &record,
                     const lockscope::inspect::LockHolder &holder,
                     SteadyClock::time_point now = SteadyClock::now(),
                     const QDateTime &wallNow = QDateTime::currentDateTime());

/// What one holder of a lock of several is, for people: "reader", "writer", "permit", "holder".
QString holderNoun(const lockscope::inspect::LockRecord &record,
                   const lockscope::inspect::LockHolder &holder);

/// "read at 14:03:22" (clockTime of `at`).
QString readAt(const QDateTime &at, const QDateTime &now = QDateTime::currentDateTime());

/// Who holds the lock, the same text everywhere (the table, Details, the dialogs, lockctl and
/// the admin messages): core's, so that no view writes its own.
using lockscope::inspect::ownerText;

/// "1 byte", "32 bytes", "1,024 bytes": `one` or `many` by the number, each holding %1 for it
/// in the user's locale (tr("%1 byte"), tr("%1 bytes")). The app loads no translations, so Qt's
/// "%n byte(s)" would show its parentheses. The one count-with-noun helper of the app.
QString counted(qint64 n, const QString &one, const QString &many);

/// Characters of a key, owner, label or token laid out in a one-line view; the rest is cut,
/// with the whole size said. A 50 MB label must not be laid out on the GUI thread.
inline constexpr qsizetype ShortTextChars = 300;

/// Bytes for a one-line view: escaped (lockscope::displayText), at most `maxChars` characters
/// of them (only the start is even looked at), then "… (52.4 MB in all)".
QString shortText(QByteArrayView bytes, qsizetype maxChars = ShortTextChars);
/// Keeps a QByteArray from converting to QString (which would lose invalid bytes).
inline QString shortText(const QByteArray &bytes, qsizetype maxChars = ShortTextChars)
{
    return shortText(QByteArrayView(bytes), maxChars);
}
/// The same for text that is already a QString (escaped too).
QString shortText(const QString &text, qsizetype maxChars = ShortTextChars);

/// The label the majority holder attached (empty when none).
using lockscope::inspect::labelOf;

} // namespace locktext
