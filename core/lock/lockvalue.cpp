#include "lockvalue.h"

#include <QList>
#include <algorithm>
#include <openssl/rand.h>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lockscope::lock {

namespace {
constexpr QByteArrayView kVersion = "ls1";

bool needsEscape(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '%' || c == '=';
}

// The instants the "at" field can carry: ISO 8601's four-digit years, 0001-01-01T00:00:00.000Z to
// 9999-12-31T23:59:59.999Z. Qt writes no ISO text for a year outside them (a parsed time with an
// offset, "9999-12-31T23:59:59-01:00", is one), so such a time is neither written nor read.
constexpr qint64 kFirstIsoMs = -62135596800000;
constexpr qint64 kLastIsoMs = 253402300799999;

bool isIsoYear(const QDateTime &time)
{
    if (!time.isValid())
        return false;
    const qint64 ms = time.toMSecsSinceEpoch();
    return ms >= kFirstIsoMs && ms <= kLastIsoMs;
}

// ISO 8601 UTC with milliseconds. QDateTime::toString costs microseconds per call (it goes
// through printf-style formatting); this runs on every acquire, so the part up to the second
// is cached per thread.
QByteArray isoTimestamp(const QDateTime &time)
{
    thread_local qint64 cachedSecond = -1;
    thread_local QByteArray cachedText;
    const qint64 ms = time.toMSecsSinceEpoch();
    const qint64 second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    if (second != cachedSecond) {
        cachedText = QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(Qt::ISODate).toLatin1();
        cachedText.chop(1); // the trailing 'Z'
        cachedSecond = second;
    }
    const int millis = static_cast<int>(ms - second * 1000);
    QByteArray out = cachedText;
    out += '.';
    out += static_cast<char>('0' + millis / 100);
    out += static_cast<char>('0' + millis / 10 % 10);
    out += static_cast<char>('0' + millis % 10);
    out += 'Z';
    return out;
}

void field(QByteArray &out, const char *name, const QByteArray &value)
{
    out += ' ';
    out += name;
    out += '=';
    out += LockValue::escape(value);
}
} // namespace

QByteArray LockValue::escape(const QByteArray &raw)
{
    QByteArray out;
    out.reserve(raw.size());
    static const char hex[] = "0123456789ABCDEF";
    for (const char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        if (needsEscape(c)) {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += ch;
        }
    }
    return out;
}

QByteArray LockValue::unescape(const QByteArray &encoded)
{
    return QByteArray::fromPercentEncoding(encoded);
}

QByteArray LockValue::ownerPrefix(const QByteArray &token)
{
    QByteArray prefix = kVersion.toByteArray();
    prefix += " tok=";
    prefix += escape(token);
    prefix += ' ';
    return prefix;
}

QByteArray LockValue::encodeTail() const
{
    QByteArray out;
    if (mode != 0)
        field(out, "rw", QByteArray(1, mode));
    if (permits > 0)
        field(out, "permits", QByteArray::number(permits));
    if (holds > 0)
        field(out, "cnt", QByteArray::number(holds));
    if (fair)
        field(out, "fair", QByteArrayLiteral("1"));
    if (!host.isEmpty())
        field(out, "host", host.toUtf8());
    if (pid != 0)
        field(out, "pid", QByteArray::number(pid));
    if (!thread.isEmpty())
        field(out, "thr", thread.toUtf8());
    if (isIsoYear(acquiredAt))
        field(out, "at", isoTimestamp(acquiredAt));
    if (!call.isEmpty())
        field(out, "call", call);
    if (!label.isEmpty())
        field(out, "label", label.toUtf8());
    for (auto it = metadata.cbegin(); it != metadata.cend(); ++it) {
        out += " m.";
        out += escape(it.key().toUtf8());
        out += '=';
        out += escape(it.value().toUtf8());
    }
    return out;
}

QByteArray LockValue::encode() const
{
    if (fence <= 0)
        return ownerPrefix(token) + encodeTail().mid(1); // a lock taken without fencing
    return ownerPrefix(token) + "fence=" + QByteArray::number(fence) + encodeTail();
}

namespace {

/// A field's value with its percent-encoding undone (copied only when there is any).
QByteArray unescaped(QByteArrayView raw)
{
    if (!raw.contains('%'))
        return raw.toByteArray();
    return LockValue::unescape(raw.toByteArray());
}

QString unescapedText(QByteArrayView raw)
{
    if (!raw.contains('%'))
        return QString::fromUtf8(raw);
    return QString::fromUtf8(LockValue::unescape(raw.toByteArray()));
}

struct TextHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

/// Host and thread names repeat across the locks a snapshot reads (a process holds many), so each
/// thread converts a name once and shares the QString: fewer allocations, and less memory per
/// decoded lock. Bounded: the cache starts over when it is full.
QString internedText(QByteArrayView raw)
{
    constexpr std::size_t kMaxEntries = 4096;
    constexpr qsizetype kMaxLength = 128;
    if (raw.size() > kMaxLength || raw.contains('%'))
        return unescapedText(raw);
    thread_local std::unordered_map<std::string, QString, TextHash, std::equal_to<>> cache;
    const std::string_view key(raw.data(), std::size_t(raw.size()));
    if (const auto found = cache.find(key); found != cache.end())
        return found->second;
    if (cache.size() >= kMaxEntries)
        cache.clear();
    QString text = QString::fromUtf8(raw);
    cache.emplace(std::string(key), text);
    return text;
}

/// "YYYY-MM-DDTHH:MM:SS.mmmZ", the form encode() writes, read without Qt's general ISO parser
/// (which costs microseconds: the inspector parses every lock of a snapshot). Any other form,
/// or a date or time out of range, goes through QDateTime::fromString as before.
QDateTime parseTimestamp(QByteArrayView t)
{
    if (t.size() == 24 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' &&
        t[19] == '.' && t[23] == 'Z') {
        bool digits = true;
        const auto number = [&](qsizetype from, qsizetype length) {
            int n = 0;
            for (qsizetype i = from; i < from + length; ++i) {
                const char c = t[i];
                digits &= c >= '0' && c <= '9';
                n = n * 10 + (c - '0');
            }
            return n;
        };
        const QDate date(number(0, 4), number(5, 2), number(8, 2));
        const QTime time(number(11, 2), number(14, 2), number(17, 2), number(20, 3));
        if (digits && date.isValid() && time.isValid())
            return QDateTime(date, time, Qt::UTC);
    }
    const QDateTime parsed = QDateTime::fromString(QString::fromLatin1(t), Qt::ISODateWithMs);
    return isIsoYear(parsed) ? parsed : QDateTime();
}

} // namespace

std::optional<LockValue> LockValue::parse(const QByteArray &value)
{
    // Fields are separated by single spaces; the first is the version and the second the token.
    const QByteArrayView all(value);
    if (!all.startsWith("ls1 tok="))
        return std::nullopt;
    LockValue v;
    // A field named twice is ambiguous: the scripts' owner check compares the value's start
    // ("ls1 tok=<first token> "), a reader taking the last would show another owner. Such a
    // value is not one LockScope wrote (encode() names every field once): not decoded at all.
    enum Seen : unsigned
    {
        Tok = 1,
        Fence = 2,
        Host = 4,
        Pid = 8,
        Thr = 16,
        At = 32,
        Label = 64,
        Call = 128,
        Rw = 256,
        Permits = 512,
        Cnt = 1024,
        Fair = 2048
    };
    unsigned seen = 0;
    const auto first = [&seen](unsigned bit) {
        const bool repeated = (seen & bit) != 0;
        seen |= bit;
        return !repeated;
    };
    for (qsizetype from = kVersion.size() + 1; from <= all.size();) {
        const auto space = std::find(all.begin() + from, all.end(), ' ');
        const qsizetype end = space - all.begin();
        const QByteArrayView part = all.sliced(from, end - from);
        from = end + 1;
        if (part.isEmpty())
            continue; // "ls1 tok=x " (no other fields) ends with the prefix's space
        const qsizetype eq = part.indexOf('=');
        if (eq <= 0)
            return std::nullopt;
        const QByteArrayView name = part.first(eq);
        // Compared as string_view: inline against the literals' compile-time lengths.
        const std::string_view field(name.data(), std::size_t(name.size()));
        const QByteArrayView raw = part.sliced(eq + 1);
        if (field == "tok") {
            if (!first(Tok))
                return std::nullopt;
            v.token = unescaped(raw);
        } else if (field == "fence") {
            if (!first(Fence))
                return std::nullopt;
            bool ok = false;
            v.fence = raw.contains('%') ? unescaped(raw).toLongLong(&ok) : raw.toLongLong(&ok);
            if (!ok)
                return std::nullopt;
        } else if (field == "rw") {
            if (!first(Rw) || raw.size() != 1 || (raw[0] != 'r' && raw[0] != 'w'))
                return std::nullopt;
            v.mode = raw[0];
        } else if (field == "permits") {
            bool ok = false;
            v.permits = raw.toInt(&ok);
            if (!first(Permits) || !ok || v.permits <= 0)
                return std::nullopt;
        } else if (field == "cnt") {
            bool ok = false;
            v.holds = raw.toInt(&ok);
            if (!first(Cnt) || !ok || v.holds <= 0)
                return std::nullopt;
        } else if (field == "fair") {
            if (!first(Fair) || raw != "1")
                return std::nullopt;
            v.fair = true;
        } else if (field == "host") {
            if (!first(Host))
                return std::nullopt;
            v.host = internedText(raw);
        } else if (field == "pid") {
            if (!first(Pid))
                return std::nullopt;
            v.pid = raw.contains('%') ? unescaped(raw).toLongLong() : raw.toLongLong();
        } else if (field == "thr") {
            if (!first(Thr))
                return std::nullopt;
            v.thread = internedText(raw);
        } else if (field == "at") {
            if (!first(At))
                return std::nullopt;
            v.acquiredAt = raw.contains('%') ? parseTimestamp(unescaped(raw)) : parseTimestamp(raw);
        } else if (field == "label") {
            if (!first(Label))
                return std::nullopt;
            v.label = unescapedText(raw);
        } else if (field == "call") {
            if (!first(Call))
                return std::nullopt;
            v.call = unescaped(raw);
        } else if (field.starts_with("m.")) {
            const QString metaName = unescapedText(name.sliced(2));
            if (v.metadata.contains(metaName))
                return std::nullopt;
            v.metadata.insert(metaName, unescapedText(raw));
        }
        // Unknown fields belong to a newer minor format: ignored, not an error.
    }
    return v;
}

namespace {
/// The part of a name that Redis Cluster hashes: between the first '{' and the next '}' when
/// that part is non-empty, otherwise the whole name.
QByteArrayView hashedPart(QByteArrayView name)
{
    const qsizetype open = name.indexOf('{');
    if (open >= 0) {
        const qsizetype close = name.indexOf('}', open + 1);
        if (close > open + 1)
            return name.sliced(open + 1, close - open - 1);
    }
    return name;
}

/// A companion name of a full lock key in its cluster slot; see fenceKeyFor().
QByteArray sameSlotName(const QByteArray &lockKey, const QByteArray &prefix, const char *suffix)
{
    if (hashedPart(lockKey).size() != lockKey.size())
        return lockKey + suffix; // a hash tag of its own: the name starts with the key
    QByteArray tagged = '{' + lockKey + '}' + suffix;
    if (prefix.isEmpty() || !lockKey.startsWith(prefix))
        return tagged;
    // A '{' in the prefix or a '}' in the key would move the tag: no name then both starts with
    // the prefix and shares the key's slot, and the slot wins (the scripts need it on Cluster).
    QByteArray name = prefix + tagged;
    return hashedPart(name) == QByteArrayView(lockKey) ? name : tagged;
}
} // namespace

QByteArray fenceKeyFor(const QByteArray &lockKey, const QByteArray &prefix)
{
    return sameSlotName(lockKey, prefix, ".fence");
}

QByteArray releaseChannelFor(const QByteArray &lockKey, const QByteArray &prefix)
{
    return sameSlotName(lockKey, prefix, ".released");
}

QByteArray writerIntentKeyFor(const QByteArray &lockKey, const QByteArray &prefix)
{
    return sameSlotName(lockKey, prefix, ".wwait");
}

std::pair<QByteArray, QByteArray> fairQueueKeysFor(const QByteArray &lockKey, const QByteArray &prefix)
{
    return {sameSlotName(lockKey, prefix, ".queue"), sameSlotName(lockKey, prefix, ".qexp")};
}

std::pair<QByteArray, QByteArray> waitQueueKeysFor(const QByteArray &lockKey, const QByteArray &prefix)
{
    return {sameSlotName(lockKey, prefix, ".waiters"), sameSlotName(lockKey, prefix, ".wexp")};
}

std::vector<QByteArray> possibleKeyPrefixes(const QByteArray &lockKey)
{
    // Each candidate costs the inspector one more read per companion: a few suffice for the
    // usual "app:" or "app:env:" prefixes.
    constexpr int kMaxPrefixes = 3;
    std::vector<QByteArray> prefixes{QByteArray()};
    for (qsizetype i = 0; i + 1 < lockKey.size() && int(prefixes.size()) <= kMaxPrefixes; ++i) {
        if (lockKey[i] == ':' || lockKey[i] == '/')
            prefixes.push_back(lockKey.left(i + 1));
    }
    return prefixes;
}

namespace {
QByteArray randomId(int size)
{
    unsigned char bytes[16];
    Q_ASSERT(size <= int(sizeof bytes));
    if (RAND_bytes(bytes, size) != 1)
        qFatal("OpenSSL RAND_bytes failed: no secure randomness for lock tokens");
    return QByteArray(reinterpret_cast<const char *>(bytes), size)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}
} // namespace

QByteArray randomToken()
{
    return randomId(16);
}

QByteArray randomCallId()
{
    return randomId(8);
}

} // namespace lockscope::lock
