#include "samplelocks.h"

#include "inspect/lockschema.h"
#include "lock/lockvalue.h"

#include <QCryptographicHash>
#include <algorithm>

namespace samplelocks {

using lockscope::inspect::aggregate;
using lockscope::inspect::SchemaRegistry;

namespace {

const SchemaRegistry &registry()
{
    static const SchemaRegistry builtins = SchemaRegistry::builtins();
    return builtins;
}

QDateTime minutesAgo(double minutes)
{
    return QDateTime::currentDateTimeUtc().addMSecs(-qint64(minutes * 60'000));
}

} // namespace

RawEntry stringRaw(const QByteArray &value, qint64 pttlMs)
{
    RawEntry raw;
    raw.type = RawEntry::Type::String;
    raw.typeName = QStringLiteral("string");
    raw.value = value;
    raw.pttlMs = pttlMs;
    return raw;
}

RawEntry hashRaw(std::vector<std::pair<QByteArray, QByteArray>> fields, qint64 pttlMs)
{
    RawEntry raw;
    raw.type = RawEntry::Type::Hash;
    raw.typeName = QStringLiteral("hash");
    raw.fields = std::move(fields);
    raw.pttlMs = pttlMs;
    return raw;
}

NodeEntry held(const QString &node, const QByteArray &key, const RawEntry &raw)
{
    NodeEntry entry;
    entry.node = node;
    entry.raw = raw;
    entry.decoded = registry().decode(key, raw);
    return entry;
}

NodeEntry missing(const QString &node)
{
    NodeEntry entry;
    entry.node = node;
    return entry;
}

NodeEntry unreachable(const QString &node, const QString &error)
{
    NodeEntry entry;
    entry.node = node;
    entry.reachable = false;
    entry.error = error;
    return entry;
}

LockRecord heldOn(const QByteArray &key, const RawEntry &raw, const QStringList &nodes)
{
    std::vector<NodeEntry> entries;
    for (const QString &node : nodes)
        entries.push_back(held(node, key, raw));
    return aggregate(key, std::move(entries));
}

QByteArray lockscopeValue(const QByteArray &token, qint64 fence, const QString &host, qint64 pid,
                          const QString &thread, const QString &label, const QDateTime &acquiredAt)
{
    lockscope::lock::LockValue value;
    value.token = token;
    value.fence = fence;
    value.host = host;
    value.pid = pid;
    value.thread = thread;
    value.label = label;
    value.acquiredAt = acquiredAt;
    return value.encode();
}

RawEntry kindRaw(const std::vector<KindHolder> &holders, int permits, qint64 serverMs)
{
    RawEntry raw;
    raw.type = RawEntry::Type::Other;
    raw.typeName = QStringLiteral("zset");
    raw.serverTimeMs = serverMs;
    raw.pttlMs = 0;
    for (const KindHolder &holder : holders) {
        lockscope::lock::LockValue value;
        value.token = token(holder.seed);
        value.fence = qint64(raw.members.size()) + 1;
        value.host = holder.host;
        value.pid = 4000 + qint64(raw.members.size());
        value.thread = QStringLiteral("main");
        if (permits > 0)
            value.permits = permits;
        else
            value.mode = holder.mode;
        raw.members.emplace_back(value.encode(), double(serverMs + holder.ttlMs));
        raw.pttlMs = std::max(raw.pttlMs, holder.ttlMs);
    }
    std::sort(raw.members.begin(), raw.members.end(),
              [](const auto &a, const auto &b) { return a.second < b.second; });
    return raw;
}

QByteArray token(const QByteArray &seed)
{
    return QCryptographicHash::hash(seed, QCryptographicHash::Sha256)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
        .left(22);
}

std::vector<LockRecord> redlockGroup(const QStringList &nodes)
{
    Q_ASSERT(nodes.size() == 3);
    std::vector<LockRecord> records;
    auto lockscope = [&](const QByteArray &key, qint64 fence, const QString &host, const QString &label,
                         qint64 ttl, double minutes) {
        const QByteArray value =
            lockscopeValue(token(key), fence, host, 4000 + fence % 997,
                           QStringLiteral("worker-%1").arg(fence % 7), label, minutesAgo(minutes));
        return stringRaw(value, ttl);
    };

    records.push_back(heldOn("billing:invoice:2024-113",
                             lockscope("billing:invoice:2024-113", 42, QStringLiteral("web-1"),
                                       QStringLiteral("monthly invoices"), 28'400, 0.3),
                             nodes));
    records.push_back(heldOn("jobs:lock:nightly-report",
                             lockscope("jobs:lock:nightly-report", 1337, QStringLiteral("batch-2"),
                                       QStringLiteral("nightly report"), 9'500, 4.2),
                             nodes));
    for (int i = 1; i <= 8; ++i) {
        const QByteArray key = "jobs:lock:shard-" + QByteArray::number(i);
        records.push_back(heldOn(key,
                                 lockscope(key, 200 + i, QStringLiteral("worker-%1").arg(i % 3 + 1),
                                           QString(), 3'000 + i * 4'100, 0.1 * i),
                                 nodes));
    }
    // Held on two of three: quorum still reached.
    {
        const QByteArray key = "jobs:lock:reindex";
        const RawEntry raw =
            lockscope(key, 77, QStringLiteral("search-1"), QStringLiteral("reindex"), 4'200, 1.5);
        records.push_back(
            aggregate(key, {held(nodes[0], key, raw), held(nodes[1], key, raw), missing(nodes[2])}));
    }
    // Held on one of three: quorum lost.
    {
        const QByteArray key = "jobs:lock:cleanup";
        const RawEntry raw = lockscope(key, 9, QStringLiteral("cron-1"), QString(), 800, 0.9);
        records.push_back(aggregate(key, {held(nodes[0], key, raw), missing(nodes[1]), missing(nodes[2])}));
    }
    // Two holders disagree.
    {
        const QByteArray key = "jobs:lock:export";
        const RawEntry mine =
            lockscope(key, 310, QStringLiteral("export-1"), QStringLiteral("csv export"), 12'000, 2);
        const RawEntry theirs =
            stringRaw(lockscopeValue(token("other"), 311, QStringLiteral("export-2"), 5120,
                                     QStringLiteral("main"), QString(), minutesAgo(1)),
                      11'000);
        records.push_back(aggregate(
            key, {held(nodes[0], key, mine), held(nodes[1], key, mine), held(nodes[2], key, theirs)}));
    }
    // go-redsync, node-redlock, bsm/redislock across the set.
    records.push_back(heldOn("payments:settle:eu", stringRaw("RY1jAFQ4TyeQZlSeaEE+sA==", 8'000), nodes));
    {
        const QByteArray key = "payments:settle:us";
        const RawEntry raw = stringRaw("LE+uzIvuP2c1vTWnEACbBw==", 6'500);
        records.push_back(aggregate(key, {held(nodes[0], key, raw), held(nodes[1], key, raw),
                                          unreachable(nodes[2], QStringLiteral("connection refused"))}));
    }
    records.push_back(
        heldOn("sessions:lock:u-1029", stringRaw("a8de6fadc4f2aaa6a777264dd40698eb", 15'000), nodes));
    records.push_back(
        heldOn("sessions:lock:u-2281", stringRaw("701af73afb9b586cc194b5e87b5f19d9", 2'400), nodes));
    records.push_back(
        heldOn("mailer:lock:digest", stringRaw("XVvHbbDD3BLQxW06-AVbYAhost=mailer-2", 45'000), nodes));
    records.push_back(heldOn("mailer:lock:bounces", stringRaw("SFOyV_PUckVhbLlFmgueHw", 120'000), nodes));
    // A LockScope lock someone took without a TTL, and a value no schema reads.
    records.push_back(heldOn("billing:migrate",
                             lockscope("billing:migrate", 3, QStringLiteral("ops-laptop"),
                                       QStringLiteral("manual migration"), -1, 95),
                             nodes));
    records.push_back(heldOn("legacy:mutex:report", stringRaw("locked-by-cron", 300'000), nodes));
    std::sort(records.begin(), records.end(), [](const auto &a, const auto &b) { return a.key < b.key; });
    return records;
}

std::vector<LockRecord> singleNode(const QString &node)
{
    const QStringList nodes{node};
    std::vector<LockRecord> records;
    records.push_back(heldOn("inventory:sku:88123",
                             hashRaw({{"71c403c7-376a-40a4-80e5-119306f775da:57", "2"}}, 30'000), nodes));
    records.push_back(heldOn("inventory:sku:90417",
                             hashRaw({{"71c403c7-376a-40a4-80e5-119306f775da:61", "1"}}, 21'000), nodes));
    records.push_back(heldOn(
        "catalog:rw:pricing",
        hashRaw({{"mode", "write"}, {"258ee31d-c759-4aca-b536-4c95b3e9c80a:88:write", "1"}}, 25'000), nodes));
    records.push_back(heldOn(
        "job-lock:default:sendNewsletter",
        stringRaw("ADDED:" + minutesAgo(3).toString(Qt::ISODateWithMs).toLatin1() + "@batch-host-2", 540'000),
        nodes));
    records.push_back(
        heldOn("orders:lock:checkout-5521", stringRaw("ba629320e71811f190ad0242ac120002", 10'000), nodes));
    records.push_back(heldOn("lock:thumbnails", stringRaw("EvpsRcQaqG07zgE14Fi4Y9EG", 60'000), nodes));
    records.push_back(heldOn("lock:migrations", stringRaw("deploy-7f3a on ci-runner-4", -1), nodes));
    records.push_back(
        heldOn("orders:lock:refund-118", stringRaw("ba629636e71811f190ad0242ac120002", 3'100), nodes));
    std::sort(records.begin(), records.end(), [](const auto &a, const auto &b) { return a.key < b.key; });
    return records;
}

void setReadAt(std::vector<LockRecord> &records, std::chrono::steady_clock::time_point at)
{
    for (LockRecord &record : records)
        record.readAtSteady = at;
}

} // namespace samplelocks
