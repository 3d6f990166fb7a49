// Every lock-schema decoder (LockScope, Redisson RLock and RReadWriteLock, ShedLock,
// python-redis-lock, bsm/redislock, go-redsync, node-redlock, redis-py, a user-defined schema),
// the registry that classifies an entry, and the aggregation of a key across the nodes of a group.
//
// Input: one byte for the entry's type ('s' string, 'h' hash, 'o' other type, 'm' missing),
// then NUL-separated parts: the PTTL in decimal, the key, then for a string its value (the rest,
// NULs included), for a hash its fields and values in turn, for another type its TYPE name.

#include "fuzzcheck.h"
#include "inspect/lockrecord.h"
#include "inspect/lockschema.h"

#include <QList>

using lockscope::fuzz::require;
using namespace lockscope::inspect;

namespace {

const SchemaRegistry &registry()
{
    static const SchemaRegistry schemas = [] {
        SchemaRegistry r = SchemaRegistry::builtins();
        const auto error =
            r.addCustom({QStringLiteral("jobs"), QStringLiteral("Job locks"), QStringLiteral("jobs:lock:*"),
                         QStringLiteral("^(?<owner>[^/]+)/(?<token>[0-9a-f]+)(?:/(?<fence>[0-9]+))?$")});
        require(!error, "the custom schema is accepted", error.value_or(QString()));
        return r;
    }();
    return schemas;
}

RawEntry entryOf(const QByteArray &bytes, QByteArray &key)
{
    RawEntry entry;
    if (bytes.isEmpty())
        return entry;
    const QList<QByteArray> parts = bytes.mid(1).split('\0');
    bool ok = false;
    const qint64 pttl = parts.value(0).toLongLong(&ok);
    entry.pttlMs = ok ? pttl : RawEntry::PttlNotRead;
    key = parts.value(1);
    const QList<QByteArray> rest = parts.mid(2);
    switch (bytes[0]) {
    case 's':
        entry.type = RawEntry::Type::String;
        entry.typeName = QStringLiteral("string");
        entry.value = rest.join('\0');
        break;
    case 'h':
        entry.type = RawEntry::Type::Hash;
        entry.typeName = QStringLiteral("hash");
        for (qsizetype i = 0; i < rest.size(); i += 2)
            entry.fields.emplace_back(rest[i], rest.value(i + 1));
        break;
    case 'o':
        entry.type = RawEntry::Type::Other;
        entry.typeName = QString::fromUtf8(rest.value(0));
        break;
    default:
        entry.type = RawEntry::Type::Missing;
        entry.pttlMs = -2;
        break;
    }
    return entry;
}

void checkDecoded(const DecodedLock &lock, const LockSchema &schema)
{
    require(lock.schema == schema.id(), "a decoded lock names the schema that decoded it", lock.schema);
    (void)confidenceText(lock.confidence);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    QByteArray key;
    const RawEntry entry = entryOf(lockscope::fuzz::bytesOf(data, size), key);
    (void)keyNamesLock(key);

    bool anyMay = false;
    for (const auto &schema : registry().schemas()) {
        const auto decoded = schema->decode(key, entry);
        const bool may = schema->mayDecode(key, entry);
        anyMay = anyMay || may;
        // The scanner skips the PTTL (and the decode) when mayDecode() says no.
        require(may || !decoded, "mayDecode() is false only when decode() gives nothing", schema->id());
        if (decoded)
            checkDecoded(*decoded, *schema);
        (void)schema->afterRelease(key);
    }
    const auto decoded = registry().decode(key, entry);
    require(registry().mayDecode(key, entry) == anyMay, "the registry's mayDecode() is any schema's");
    require(anyMay || !decoded, "the registry's mayDecode() is false only when nothing decodes");

    // The same entry on a Redlock set of three: held, held by another value, missing; and on a
    // node that failed.
    NodeEntry held{QStringLiteral("a"), true, {}, entry, decoded};
    RawEntry other = entry;
    other.value += "x";
    NodeEntry differs{QStringLiteral("b"), true, {}, other, registry().decode(key, other)};
    NodeEntry missing{QStringLiteral("c"), true, {}, RawEntry{}, std::nullopt};
    NodeEntry failed{QStringLiteral("d"), false, QStringLiteral("timeout"), RawEntry{}, std::nullopt};
    const LockRecord record = aggregate(key, {held, differs, missing, failed});
    require(record.of == 4 && record.held <= record.of, "k of N counts the nodes");
    (void)record.expiredAt(std::chrono::steady_clock::now());
    const LockRecord single = aggregate(key, {held});
    require(single.held == (held.present() ? 1 : 0), "one node that holds the key holds it");
    return 0;
}
