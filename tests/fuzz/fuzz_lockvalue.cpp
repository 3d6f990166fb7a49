// LockScope's own lock value ("ls1 tok=... fence=... host=..."): the parser, and the round trips
// the owner check rests on. A value that parses encodes to a value that parses to the same lock
// and starts with its owner prefix; any bytes survive escape() and unescape().

#include "fuzzcheck.h"
#include "lock/lockvalue.h"

#include <QList>

using lockscope::fuzz::require;
using lockscope::lock::LockValue;

namespace {

bool sameLock(const LockValue &a, const LockValue &b)
{
    // The "at" field carries ISO 8601's four-digit years (UTC): another time is not written.
    const auto written = [](const QDateTime &t) {
        return t.isValid() && t.toUTC().date().year() >= 1 && t.toUTC().date().year() <= 9999;
    };
    const auto sameTime = [&](const QDateTime &x, const QDateTime &y) {
        return written(x) == written(y) && (!written(x) || x.toMSecsSinceEpoch() == y.toMSecsSinceEpoch());
    };
    // encode() leaves out a fence of 0 or below (fencing off): it reads back as 0.
    return a.token == b.token && std::max<qint64>(a.fence, 0) == std::max<qint64>(b.fence, 0) &&
           a.host == b.host && a.pid == b.pid && a.thread == b.thread &&
           sameTime(a.acquiredAt, b.acquiredAt) && a.label == b.label && a.metadata == b.metadata &&
           a.call == b.call;
}

void checkRoundTrip(const LockValue &value, const char *what)
{
    const QByteArray encoded = value.encode();
    require(encoded.startsWith(LockValue::ownerPrefix(value.token)), "encode() starts with the owner prefix",
            QString::fromUtf8(encoded));
    const auto back = LockValue::parse(encoded);
    require(back.has_value(), what, QString::fromUtf8(encoded));
    require(sameLock(value, *back), what, QString::fromUtf8(encoded));
    require(back->encode() == encoded, "encode() is stable across parse()", QString::fromUtf8(encoded));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes = lockscope::fuzz::bytesOf(data, size);

    if (const auto parsed = LockValue::parse(bytes))
        checkRoundTrip(*parsed, "a parsed value reads back from encode() as the same lock");

    const QByteArray escaped = LockValue::escape(bytes);
    require(LockValue::unescape(escaped) == bytes, "unescape(escape(bytes)) == bytes");
    for (const char c : escaped) {
        const auto u = static_cast<unsigned char>(c);
        require(u > 0x20 && u != 0x7f && u != '=', "escape() leaves no separator or control byte");
    }

    // The other direction: a lock built from the input's NUL-separated fields.
    const QList<QByteArray> parts = bytes.split('\0');
    LockValue value;
    value.token = parts.value(0);
    value.fence = parts.value(1).toLongLong();
    value.host = QString::fromUtf8(parts.value(2));
    value.pid = parts.value(3).toLongLong();
    value.thread = QString::fromUtf8(parts.value(4));
    value.acquiredAt = QDateTime::fromMSecsSinceEpoch(parts.value(5).toLongLong(), Qt::UTC);
    value.label = QString::fromUtf8(parts.value(6));
    value.call = parts.value(7);
    for (qsizetype i = 8; i + 1 < parts.size(); i += 2)
        value.metadata.insert(QString::fromUtf8(parts[i]), QString::fromUtf8(parts[i + 1]));
    checkRoundTrip(value, "a lock reads back from encode() as the same lock");
    return 0;
}
