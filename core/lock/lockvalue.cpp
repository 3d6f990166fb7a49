#include "lockvalue.h"

#include <QList>
#include <openssl/rand.h>

namespace lockscope::lock {

namespace {
constexpr QByteArrayView kVersion = "ls1";

bool needsEscape(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '%' || c == '=';
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
    if (!host.isEmpty())
        field(out, "host", host.toUtf8());
    if (pid != 0)
        field(out, "pid", QByteArray::number(pid));
    if (!thread.isEmpty())
        field(out, "thr", thread.toUtf8());
    if (acquiredAt.isValid())
        field(out, "at", isoTimestamp(acquiredAt));
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

std::optional<LockValue> LockValue::parse(const QByteArray &value)
{
    const QList<QByteArray> parts = value.split(' ');
    if (parts.size() < 2 || parts.front() != kVersion || !parts[1].startsWith("tok="))
        return std::nullopt;
    LockValue v;
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray &part = parts[i];
        if (part.isEmpty())
            continue; // "ls1 tok=x " (no other fields) ends with the prefix's space
        const qsizetype eq = part.indexOf('=');
        if (eq <= 0)
            return std::nullopt;
        const QByteArray name = part.left(eq);
        const QByteArray raw = unescape(part.mid(eq + 1));
        if (name == "tok") {
            v.token = raw;
        } else if (name == "fence") {
            bool ok = false;
            v.fence = raw.toLongLong(&ok);
            if (!ok)
                return std::nullopt;
        } else if (name == "host") {
            v.host = QString::fromUtf8(raw);
        } else if (name == "pid") {
            v.pid = raw.toLongLong();
        } else if (name == "thr") {
            v.thread = QString::fromUtf8(raw);
        } else if (name == "at") {
            v.acquiredAt = QDateTime::fromString(QString::fromLatin1(raw), Qt::ISODateWithMs);
        } else if (name == "label") {
            v.label = QString::fromUtf8(raw);
        } else if (name.startsWith("m.")) {
            v.metadata.insert(QString::fromUtf8(unescape(name.mid(2))), QString::fromUtf8(raw));
        }
        // Unknown fields belong to a newer minor format: ignored, not an error.
    }
    return v;
}

QByteArray fenceKeyFor(const QByteArray &lockKey)
{
    // Redis Cluster hashes only the part between the first '{' and the next '}' when that
    // part is non-empty.
    const qsizetype open = lockKey.indexOf('{');
    if (open >= 0) {
        const qsizetype close = lockKey.indexOf('}', open + 1);
        if (close > open + 1)
            return lockKey + ".fence";
    }
    return '{' + lockKey + "}.fence";
}

QByteArray randomToken()
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        qFatal("OpenSSL RAND_bytes failed: no secure randomness for lock tokens");
    return QByteArray(reinterpret_cast<const char *>(bytes), sizeof bytes)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

} // namespace lockscope::lock
