#include "lockrecord.h"

#include "util/displaytext.h"
#include "util/quorum.h"

#include <QLocale>
#include <algorithm>

namespace lockscope::inspect {

namespace {

/// An undecoded set or list by its members (compared across nodes like a raw value), another
/// type by its name.
QByteArray otherToken(const RawEntry &raw)
{
    if (!raw.isSortedSet() && !raw.isList())
        return raw.typeName.toUtf8();
    QByteArray joined = raw.typeName.toUtf8() + '\0';
    for (const auto &[member, score] : raw.members) {
        joined += member;
        joined += '\0';
        joined += QByteArray::number(score, 'g', 17);
        joined += '\0';
    }
    for (const QByteArray &element : raw.elements) {
        joined += element;
        joined += '\0';
    }
    return joined;
}

/// What identifies the holder on one node: the decoded token, else the raw value (shown raw,
/// but still compared across nodes so that differing raw values are flagged).
QByteArray holderToken(const NodeEntry &entry)
{
    if (entry.decoded)
        return entry.decoded->token;
    switch (entry.raw.type) {
    case RawEntry::Type::String:
        return entry.raw.value;
    case RawEntry::Type::Hash: {
        QByteArray joined;
        for (const auto &[field, value] : entry.raw.fields) {
            joined += field;
            joined += '\0';
            joined += value;
            joined += '\0';
        }
        return joined;
    }
    case RawEntry::Type::Other:
        return otherToken(entry.raw);
    case RawEntry::Type::Missing:
        break;
    }
    return {};
}

/// Byte equality, at once when both share their bytes (the nodes of a record that hold the same
/// value share one decoding, so their tokens usually are the same QByteArray data).
bool sameBytes(const QByteArray &a, const QByteArray &b)
{
    return a.size() == b.size() && (a.constData() == b.constData() || a == b);
}

/// Characters of an owner or a label in the owner text; the rest is cut.
constexpr qsizetype OwnerTextChars = 300;

/// `text` escaped (displayText), at most OwnerTextChars characters of it, then "… (N characters
/// in all)": only the start is escaped.
QString bounded(const QString &text)
{
    if (text.size() <= OwnerTextChars)
        return displayText(text);
    QString shown = displayText(QStringView(text).first(OwnerTextChars).toString());
    shown.truncate(OwnerTextChars);
    return shown + QStringLiteral("… (%1 characters in all)").arg(QLocale().toString(text.size()));
}

} // namespace

const NodeEntry *majorityEntry(const LockRecord &record)
{
    const NodeEntry *fallback = nullptr;
    for (const NodeEntry &entry : record.nodes) {
        if (!entry.present())
            continue;
        if (entry.decoded && entry.decoded->token == record.token)
            return &entry;
        if (!fallback)
            fallback = &entry;
    }
    return fallback;
}

QString labelOf(const LockRecord &record)
{
    if (const NodeEntry *entry = majorityEntry(record); entry && entry->decoded)
        return entry->decoded->label;
    return {};
}

namespace {
/// "3 readers", "2 of 5 permits", "" for a lock of one holder: how many hold a lock of several.
QString holdersCount(const DecodedLock &decoded)
{
    const auto n = qsizetype(decoded.holders.size());
    if (decoded.kind == QLatin1String(lockKind::Read))
        return n == 1 ? QStringLiteral("1 reader") : QStringLiteral("%1 readers").arg(n);
    if (decoded.kind == QLatin1String(lockKind::Semaphore))
        return decoded.permits >= 0 ? QStringLiteral("%1 of %2 permits").arg(n).arg(decoded.permits)
                                    : QStringLiteral("%1 permit%2").arg(n).arg(n == 1 ? "" : "s");
    return n > 1 ? QStringLiteral("%1 holders").arg(n) : QString();
}
} // namespace

QString ownerText(const LockRecord &record)
{
    QString text = singleOwnerText(record);
    const NodeEntry *entry = majorityEntry(record);
    if (!entry || !entry->decoded)
        return text;
    const DecodedLock &decoded = *entry->decoded;
    if (const QString count = holdersCount(decoded); !count.isEmpty())
        text = decoded.holders.empty() ? count : count + QStringLiteral(": ") + text;
    if (!decoded.queue.empty())
        text += QStringLiteral(" (%1 waiting)").arg(decoded.queue.size());
    return text;
}

QString kindText(const LockRecord &record)
{
    const NodeEntry *entry = majorityEntry(record);
    if (!entry || !entry->decoded || entry->decoded->kind.isEmpty())
        return {};
    const DecodedLock &decoded = *entry->decoded;
    const auto n = qsizetype(decoded.holders.size());
    if (decoded.kind == QLatin1String(lockKind::Read))
        return n > 1 ? QStringLiteral("read ×%1").arg(n) : decoded.kind;
    if (decoded.kind == QLatin1String(lockKind::Semaphore))
        return decoded.permits >= 0 ? QStringLiteral("semaphore %1/%2").arg(n).arg(decoded.permits)
                                    : QStringLiteral("semaphore %1").arg(n);
    if (decoded.kind == QLatin1String(lockKind::Reentrant) && record.holdCount > 1)
        return QStringLiteral("reentrant ×%1").arg(record.holdCount);
    if (decoded.kind == QLatin1String(lockKind::Fair) && !decoded.queue.empty())
        return QStringLiteral("fair, %1 waiting").arg(decoded.queue.size());
    return decoded.kind;
}

QString singleOwnerText(const LockRecord &record)
{
    const QString owner = bounded(record.owner);
    const QString label = bounded(labelOf(record));
    if (owner.isEmpty() && label.isEmpty()) {
        if (record.schema.isEmpty())
            return QStringLiteral("unknown: the value is not decoded");
        return QStringLiteral("not recorded by %1").arg(record.schema);
    }
    if (label.isEmpty())
        return owner;
    if (owner.isEmpty())
        return QStringLiteral("“%1”").arg(label);
    return QStringLiteral("“%1” — %2").arg(label, owner);
}

bool LockRecord::expiredAt(std::chrono::steady_clock::time_point now) const
{
    if (held == 0)
        return false;
    // The countdown must have reached zero on every holder; a holder without a TTL never expires.
    qint64 longest = -1;
    for (const NodeEntry &entry : nodes) {
        if (!entry.present() || holderToken(entry) != token)
            continue;
        if (entry.raw.pttlMs < 0)
            return false;
        longest = std::max(longest, entry.raw.pttlMs);
    }
    if (longest < 0)
        return false;
    // Compared in milliseconds: a server may hold a PTTL of millennia (PEXPIREAT far ahead), which
    // as a steady_clock duration (nanoseconds) would overflow.
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - readAtSteady).count() >= longest;
}

LockRecord aggregate(const QByteArray &key, std::vector<NodeEntry> nodes)
{
    LockRecord record;
    record.key = key;
    record.of = static_cast<int>(nodes.size());
    record.readAt = QDateTime::currentDateTimeUtc();
    record.readAtSteady = std::chrono::steady_clock::now();

    // Tokens of the present nodes, in group order.
    std::vector<QByteArray> tokens(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].present())
            tokens[i] = holderToken(nodes[i]);
    }

    // Majority token: the highest count; ties go to the token seen first in group order.
    int bestCount = 0;
    std::size_t bestIndex = nodes.size();
    bool differ = false;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!nodes[i].present())
            continue;
        if (bestIndex < nodes.size() && !sameBytes(tokens[i], tokens[bestIndex]))
            differ = true;
        int count = 0;
        for (std::size_t j = 0; j < nodes.size(); ++j) {
            if (nodes[j].present() && sameBytes(tokens[j], tokens[i]))
                ++count;
        }
        if (count > bestCount) {
            bestCount = count;
            bestIndex = i;
        }
    }

    bool noTtl = false;
    bool anyDecoded = false;
    bool lockState = false;
    if (bestIndex < nodes.size()) {
        record.token = tokens[bestIndex];
        record.held = bestCount;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const NodeEntry &entry = nodes[i];
            if (!entry.present() || !sameBytes(tokens[i], record.token))
                continue;
            if (entry.raw.pttlMs == -1)
                noTtl = true;
            else if (entry.raw.pttlMs >= 0)
                record.minPttlMs =
                    record.minPttlMs < 0 ? entry.raw.pttlMs : std::min(record.minPttlMs, entry.raw.pttlMs);
            if (entry.decoded && (!record.confidence || entry.decoded->confidence < *record.confidence)) {
                record.confidence = entry.decoded->confidence;
                record.confidenceReason = entry.decoded->confidenceReason;
            }
            if (entry.decoded && !anyDecoded) {
                anyDecoded = true;
                record.schema = entry.decoded->schema;
                record.owner = entry.decoded->owner;
                record.fence = entry.decoded->fence;
                record.holdCount = entry.decoded->holdCount;
                record.mode = entry.decoded->mode;
                record.kind = entry.decoded->kind;
                lockState = !entry.decoded->anomalies.isEmpty();
            } else if (entry.decoded) {
                // A Redlock node the fence raise missed stores a lower fence: the lock's is the highest.
                record.fence = std::max(record.fence, entry.decoded->fence);
            }
        }
    }
    record.quorum = record.held >= quorumOf(record.of);

    const bool unreachable =
        std::ranges::any_of(nodes, [](const NodeEntry &entry) { return !entry.reachable; });
    if (noTtl)
        record.anomalies.append(QLatin1String(anomaly::NoTtl));
    if (differ)
        record.anomalies.append(QLatin1String(anomaly::TokensDiffer));
    if (record.of > 1 && !record.quorum)
        record.anomalies.append(QLatin1String(anomaly::QuorumLost));
    if (unreachable)
        record.anomalies.append(QLatin1String(anomaly::NodeUnreachable));
    if (record.held > 0 && !anyDecoded)
        record.anomalies.append(QLatin1String(anomaly::Undecoded));
    if (lockState)
        record.anomalies.append(QLatin1String(anomaly::LockState));

    record.nodes = std::move(nodes);
    return record;
}

} // namespace lockscope::inspect
