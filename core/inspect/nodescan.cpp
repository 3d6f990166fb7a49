// NodeScan (nodescan.h): one node's SCAN pages and the pipelined reads of their keys' values,
// TTLs and hashes, with the fallbacks for what the node's ACL user may not run.

#include "nodescan.h"

#include "rawread.h"

#include <span>

namespace lockscope::inspect::detail {

using redis::RedisReply;

namespace {

const QString &typeNameString()
{
    static const QString name = QStringLiteral("string");
    return name;
}

} // namespace

NodeScan::NodeScan(const redis::NodeConfig &config, const ScanPlan &plan, const SchemaRegistry &registry,
                   const ScanOptions &options, int index,
                   const std::function<void(const ScanProgress &)> &progress, const std::atomic<bool> *cancel)
    : m_connection(withoutSpin(config)), m_label(config.label()), m_plan(plan), m_registry(registry),
      m_options(options), m_index(index), m_progress(progress), m_cancel(cancel)
{}

NodeHarvest NodeScan::run()
{
    if (!connect())
        return failed(m_harvest.result.error);
    QSet<QByteArray> seen;
    const bool dedupe = m_plan.patterns.size() > 1;
    const std::size_t batch = std::size_t(std::max(1, m_options.batch));
    const QByteArray count = QByteArray::number(std::max(1, m_options.count));
    std::vector<QByteArray> pending; // keys SCAN returned, not fetched yet
    std::size_t pendingHead = 0;
    std::size_t pattern = 0;
    QByteArray cursor("0");
    bool scanDone = m_plan.patterns.empty();
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    for (;;) {
        if (isCancelled())
            return cancelled();
        const bool scanning = !scanDone;
        if (scanning)
            m_connection.append({QByteArrayView("SCAN"), cursor, QByteArrayView("MATCH"),
                                 m_plan.patterns[pattern], QByteArrayView("COUNT"), count});
        // Every full batch, and the rest once the last page is in.
        chunks.clear();
        while (pending.size() - pendingHead >= batch || (scanDone && pendingHead < pending.size())) {
            const std::size_t to = std::min(pendingHead + batch, pending.size());
            appendFetch(pending, pendingHead, to);
            chunks.emplace_back(pendingHead, to);
            pendingHead = to;
        }
        if (!scanning && chunks.empty())
            break;
        const Clock::time_point sent = Clock::now();
        if (auto flushed = m_connection.flush(); !flushed)
            return failed(flushed.error().toString());
        if (scanning) {
            auto reply = m_connection.readReply();
            if (!reply)
                return failed(reply.error().toString());
            if (auto error = scanPageError(*reply))
                return failed(*error);
            cursor = takePage(*reply, dedupe ? &seen : nullptr, pending);
            if (cursor == "0") // this pattern is done: the next one starts at cursor 0
                scanDone = ++pattern >= m_plan.patterns.size();
        }
        if (auto error = readFetches(pending, chunks, sent))
            return failed(*error);
        if (pendingHead == pending.size()) {
            pending.clear();
            pendingHead = 0;
        }
    }
    noteNotPermitted();
    report(true);
    return std::move(m_harvest);
}

bool NodeScan::connect()
{
    m_harvest.result.node = m_label;
    if (auto connected = m_connection.connect(); !connected)
        return fail(connected.error().toString());
    return true;
}

bool NodeScan::scanKeys(std::vector<QByteArray> &keys)
{
    QSet<QByteArray> seen;
    const bool dedupe = m_plan.patterns.size() > 1;
    const QByteArray count = QByteArray::number(std::max(1, m_options.count));
    for (const QByteArray &pattern : m_plan.patterns) {
        QByteArray cursor("0");
        do {
            if (isCancelled()) {
                m_harvest.cancelled = true;
                return false;
            }
            m_connection.append({QByteArrayView("SCAN"), cursor, QByteArrayView("MATCH"), pattern,
                                 QByteArrayView("COUNT"), count});
            if (auto flushed = m_connection.flush(); !flushed)
                return fail(flushed.error().toString());
            auto reply = m_connection.readReply();
            if (!reply)
                return fail(reply.error().toString());
            if (auto error = scanPageError(*reply))
                return fail(*error);
            cursor = takePage(*reply, dedupe ? &seen : nullptr, keys);
            report(false);
        } while (cursor != "0");
    }
    return true;
}

NodeHarvest NodeScan::fetch(std::vector<QByteArray> keys)
{
    m_harvest.keys.clear();
    m_harvest.raws.clear();
    m_harvest.sentAt.clear();
    const std::size_t batch = std::size_t(std::max(1, m_options.batch));
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    for (std::size_t from = 0; from < keys.size(); from += batch) {
        const std::size_t to = std::min(from + batch, keys.size());
        appendFetch(keys, from, to);
        chunks.emplace_back(from, to);
    }
    if (!chunks.empty()) {
        const Clock::time_point sent = Clock::now();
        if (auto flushed = m_connection.flush(); !flushed)
            return failed(flushed.error().toString());
        if (auto error = readFetches(keys, chunks, sent))
            return failed(*error);
    }
    NodeHarvest harvest;
    harvest.keys = std::move(m_harvest.keys);
    harvest.raws = std::move(m_harvest.raws);
    harvest.sentAt = std::move(m_harvest.sentAt);
    harvest.result = m_harvest.result;
    return harvest;
}

NodeScanResult NodeScan::finish()
{
    noteNotPermitted();
    report(true);
    return m_harvest.result;
}

std::optional<QString> NodeScan::scanPageError(const RedisReply &reply) const
{
    if (reply.isError() && reply.bytes().startsWith("NOPERM"))
        return QStringLiteral("%1: this ACL user may not run SCAN (%2): listing locks needs +scan "
                              "(the inspector's ACL: +scan +mget +get +pttl +type +hgetall +zrange +lrange "
                              "+time ~*)")
            .arg(m_label, QString::fromUtf8(reply.bytes()));
    if (reply.isError())
        return QStringLiteral("%1: SCAN: %2").arg(m_label, QString::fromUtf8(reply.bytes()));
    if (!reply.isArray() || reply.elements().size() != 2 || !reply.elements()[1].isArray())
        return QStringLiteral("%1: unexpected reply to SCAN: %2").arg(m_label, reply.toDisplayString());
    return std::nullopt;
}

QByteArray NodeScan::takePage(const RedisReply &page, QSet<QByteArray> *seen, std::vector<QByteArray> &into)
{
    const auto &keys = page.elements()[1].elements();
    m_harvest.result.keysScanned += keys.size();
    for (const RedisReply &key : keys) {
        if (seen) {
            if (seen->contains(key.bytes()))
                continue;
            seen->insert(key.bytes());
        }
        into.push_back(key.bytes());
    }
    return page.elements()[0].bytes();
}

bool NodeScan::fail(const QString &error)
{
    m_harvest.result.ok = false;
    m_harvest.result.error = error;
    return false;
}

void NodeScan::noteNotPermitted()
{
    if (const quint64 hidden = m_harvest.result.keysNotPermitted; hidden > 0) {
        const QString said = QStringLiteral("%1 not readable by this ACL user (outside its key patterns): "
                                            "not shown")
                                 .arg(hidden == 1 ? QStringLiteral("1 scanned key is")
                                                  : QStringLiteral("%1 scanned keys are").arg(hidden));
        m_harvest.result.note =
            m_harvest.result.note.isEmpty() ? said : m_harvest.result.note + QStringLiteral("; ") + said;
    }
}

void NodeScan::report(bool finished)
{
    if (m_progress)
        m_progress(ScanProgress{m_index, m_harvest.result.keysScanned, finished});
}

NodeHarvest NodeScan::failed(const QString &error)
{
    fail(error);
    NodeHarvest harvest;
    harvest.result = m_harvest.result;
    report(true);
    return harvest;
}

NodeHarvest NodeScan::cancelled()
{
    NodeHarvest harvest;
    harvest.result = m_harvest.result;
    harvest.cancelled = true;
    return harvest;
}

void NodeScan::appendFetch(const std::vector<QByteArray> &keys, std::size_t from, std::size_t to)
{
    if (m_mget) {
        m_argv.clear();
        m_argv.push_back(mgetName());
        m_argv.insert(m_argv.end(), keys.begin() + std::ptrdiff_t(from), keys.begin() + std::ptrdiff_t(to));
        m_connection.append(std::span<const QByteArray>(m_argv));
    } else {
        for (std::size_t i = from; i < to; ++i) {
            m_connection.append({QByteArrayView("PTTL"), keys[i]});
            m_connection.append({QByteArrayView("GET"), keys[i]});
        }
    }
    m_chunkMget.push_back(m_mget);
}

const QByteArray &NodeScan::mgetName()
{
    static const QByteArray name = QByteArrayLiteral("MGET");
    return name;
}

std::optional<QString> NodeScan::readFetches(const std::vector<QByteArray> &keys,
                                             const std::vector<std::pair<std::size_t, std::size_t>> &chunks,
                                             Clock::time_point sent)
{
    const std::size_t base = m_harvest.raws.size();
    std::vector<std::size_t> needGet;
    std::vector<std::size_t> others;
    std::vector<std::size_t> needPttl;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const auto [from, to] = chunks[c];
        const bool mget = m_chunkMget[c];
        const std::size_t first = m_harvest.raws.size();
        for (std::size_t i = from; i < to; ++i)
            m_harvest.keys.push_back(keys[i]);
        m_harvest.raws.resize(first + (to - from));
        if (mget) {
            for (std::size_t i = first; i < m_harvest.raws.size(); ++i)
                m_harvest.raws[i].pttlMs = RawEntry::PttlNotRead;
            auto values = m_connection.readReply();
            if (!values)
                return values.error().toString();
            if (values->isError() && keyNotPermitted(*values)) {
                // A key of the batch is outside the user's key patterns: this batch with
                // GET, key by key, skipping those (MGET stays for the next batches).
                for (std::size_t i = 0; i < to - from; ++i)
                    needGet.push_back(first + i);
                continue;
            }
            if (values->isError()) {
                // GET, key by key, from now on (one pipeline all the same), with a note why:
                // - CROSSSLOT: a Redis Cluster master; MGET cannot span hash slots, and the keys
                //   SCAN gives are spread over many.
                // - NOPERM: the ACL documented for the inspector has +mget; older
                //   least-privilege users still work, a little slower.
                // Any other error ends the scan of this node.
                if (values->bytes().startsWith("CROSSSLOT"))
                    m_harvest.result.note =
                        QStringLiteral("cluster node: only the keys of the hash slots this master serves are "
                                       "listed; values read with GET, one command per key (MGET cannot "
                                       "span hash slots)");
                else if (values->bytes().startsWith("NOPERM"))
                    m_harvest.result.note =
                        QStringLiteral("MGET is not permitted for this user: values read with GET, one "
                                       "command per key (add +mget to the ACL user for faster scans)");
                else
                    return QStringLiteral("MGET: %1").arg(QString::fromUtf8(values->bytes()));
                m_mget = false;
                for (std::size_t i = 0; i < to - from; ++i)
                    needGet.push_back(first + i);
                continue;
            }
            const auto &elements = values->elements();
            if (!values->isArray() || elements.size() != to - from)
                return QStringLiteral("unexpected reply to MGET: %1").arg(values->toDisplayString());
            for (std::size_t i = 0; i < to - from; ++i) {
                RawEntry &raw = m_harvest.raws[first + i];
                if (elements[i].isString()) {
                    setString(raw, elements[i].bytes());
                    askPttl(first + i, needPttl);
                } else {
                    others.push_back(first + i); // not a string, or gone
                }
            }
        } else {
            for (std::size_t i = 0; i < to - from; ++i) {
                auto pttl = m_connection.readReply();
                if (!pttl)
                    return pttl.error().toString();
                auto value = m_connection.readReply();
                if (!value)
                    return value.error().toString();
                RawEntry &raw = m_harvest.raws[first + i];
                if (pttl->isError() && keyNotPermitted(*pttl)) {
                    skipNotPermitted(raw);
                    continue;
                }
                if (pttl->isError())
                    return QStringLiteral("PTTL: %1").arg(QString::fromUtf8(pttl->bytes()));
                raw.pttlMs = pttl->integer();
                if (auto error = takeGetReply(*value, first + i, others))
                    return error;
            }
        }
        report(false);
    }
    m_chunkMget.clear();
    if (!needGet.empty()) {
        for (std::size_t i : needGet)
            m_connection.append({QByteArrayView("GET"), m_harvest.keys[i]});
        if (auto flushed = m_connection.flush(); !flushed)
            return flushed.error().toString();
        for (std::size_t i : needGet) {
            auto value = m_connection.readReply();
            if (!value)
                return value.error().toString();
            if (auto error = takeGetReply(*value, i, others))
                return error;
            if (m_harvest.raws[i].type == RawEntry::Type::String)
                askPttl(i, needPttl);
        }
    }
    // What GET / MGET did not answer as a string may be a hash lock: its PTTL too.
    for (std::size_t i : others) {
        if (m_harvest.raws[i].pttlMs == RawEntry::PttlNotRead)
            needPttl.push_back(i);
    }
    if (!needPttl.empty()) {
        if (auto error = readPttls(needPttl))
            return error;
    }
    if (!others.empty()) {
        if (auto error = readOthers(others))
            return error;
        if (auto error = readCollections(others))
            return error;
    }
    if (auto error = readCompanions(base))
        return error;
    // Keys that went away between SCAN and the reads are not kept. Decoding waits for the
    // merge: a Redlock group holds the same value on every node, so it is decoded once per
    // key there instead of once per node here.
    std::size_t kept = base;
    for (std::size_t i = base; i < m_harvest.raws.size(); ++i) {
        if (m_harvest.raws[i].type == RawEntry::Type::Missing)
            continue;
        if (kept != i) {
            m_harvest.keys[kept] = std::move(m_harvest.keys[i]);
            m_harvest.raws[kept] = std::move(m_harvest.raws[i]);
        }
        ++kept;
    }
    m_harvest.keys.resize(kept);
    m_harvest.raws.resize(kept);
    if (kept > base)
        m_harvest.sentAt.emplace_back(base, sent);
    return std::nullopt;
}

void NodeScan::askPttl(std::size_t index, std::vector<std::size_t> &needPttl) const
{
    const QByteArray &key = m_harvest.keys[index];
    const RawEntry &raw = m_harvest.raws[index];
    if (m_plan.listAllRaw || m_registry.mayDecode(key, raw) || listRaw(m_plan, key))
        needPttl.push_back(index);
}

std::optional<QString> NodeScan::readPttls(const std::vector<std::size_t> &indices)
{
    for (std::size_t i : indices)
        m_connection.append({QByteArrayView("PTTL"), m_harvest.keys[i]});
    if (auto flushed = m_connection.flush(); !flushed)
        return flushed.error().toString();
    for (std::size_t i : indices) {
        auto pttl = m_connection.readReply();
        if (!pttl)
            return pttl.error().toString();
        if (pttl->isError())
            return QStringLiteral("PTTL: %1").arg(QString::fromUtf8(pttl->bytes()));
        m_harvest.raws[i].pttlMs = pttl->integer();
    }
    return std::nullopt;
}

void NodeScan::setString(RawEntry &raw, const QByteArray &value)
{
    raw.type = RawEntry::Type::String;
    raw.typeName = typeNameString();
    raw.value = value;
}

bool NodeScan::keyNotPermitted(const RedisReply &reply)
{
    return reply.isError() && reply.bytes().startsWith("NOPERM") && reply.bytes().contains("key");
}

void NodeScan::skipNotPermitted(RawEntry &raw)
{
    raw = RawEntry{};
    raw.pttlMs = -2;
    ++m_harvest.result.keysNotPermitted;
}

std::optional<QString> NodeScan::takeGetReply(const RedisReply &value, std::size_t index,
                                              std::vector<std::size_t> &others)
{
    RawEntry &raw = m_harvest.raws[index];
    if (value.isString()) {
        setString(raw, value.bytes());
    } else if (keyNotPermitted(value)) {
        skipNotPermitted(raw);
    } else if (value.isError()) {
        if (!value.bytes().startsWith("WRONGTYPE"))
            return QStringLiteral("GET: %1").arg(QString::fromUtf8(value.bytes()));
        others.push_back(index);
    } else {
        raw.type = RawEntry::Type::Missing;
        raw.pttlMs = -2;
    }
    return std::nullopt;
}

std::optional<QString> NodeScan::readOthers(const std::vector<std::size_t> &others)
{
    for (std::size_t i : others) {
        m_connection.append({QByteArrayView("TYPE"), m_harvest.keys[i]});
        m_connection.append({QByteArrayView("HGETALL"), m_harvest.keys[i]});
    }
    if (auto flushed = m_connection.flush(); !flushed)
        return flushed.error().toString();
    for (std::size_t i : others) {
        auto type = m_connection.readReply();
        if (!type)
            return type.error().toString();
        auto fields = m_connection.readReply();
        if (!fields)
            return fields.error().toString();
        if (type->isError())
            return QStringLiteral("TYPE: %1").arg(QString::fromUtf8(type->bytes()));
        RawEntry &raw = m_harvest.raws[i];
        raw.typeName = QString::fromUtf8(type->bytes());
        if (raw.typeName == QLatin1String("none")) {
            raw.type = RawEntry::Type::Missing;
            raw.pttlMs = -2;
        } else if (raw.typeName == QLatin1String("hash") && fields->isArray()) {
            raw.type = RawEntry::Type::Hash;
            const auto &elements = fields->elements();
            raw.fields.reserve(elements.size() / 2);
            for (std::size_t f = 0; f + 1 < elements.size(); f += 2)
                raw.fields.emplace_back(elements[f].bytes(), elements[f + 1].bytes());
        } else if (raw.typeName == QLatin1String("string")) {
            // Became a string after the value was read: read it on the next scan.
            raw.type = RawEntry::Type::Missing;
            raw.pttlMs = -2;
        } else {
            raw.type = RawEntry::Type::Other;
        }
    }
    return std::nullopt;
}

std::optional<QString> NodeScan::readCollections(const std::vector<std::size_t> &others)
{
    std::vector<std::size_t> collections;
    for (std::size_t i : others) {
        const RawEntry &raw = m_harvest.raws[i];
        if (raw.isSortedSet() || raw.isList())
            collections.push_back(i);
    }
    if (collections.empty())
        return std::nullopt;
    // One TIME for the round: deadline scores are the server's (or a client's) Unix ms.
    m_connection.append({QByteArrayView("TIME")});
    for (std::size_t i : collections) {
        const RawEntry &raw = m_harvest.raws[i];
        const QByteArray &key = m_harvest.keys[i];
        m_connection.append(raw.isSortedSet() ? zrangeCommand(key) : lrangeCommand(key));
    }
    if (auto flushed = m_connection.flush(); !flushed)
        return flushed.error().toString();
    auto time = m_connection.readReply();
    if (!time)
        return time.error().toString();
    const qint64 timeMs = serverTimeMs(*time);
    for (std::size_t i : collections) {
        auto reply = m_connection.readReply();
        if (!reply)
            return reply.error().toString();
        RawEntry &raw = m_harvest.raws[i];
        raw.serverTimeMs = timeMs;
        // Refused (NOPERM) or changed type since TYPE: no members, so no schema decodes it.
        if (raw.isSortedSet())
            takeMembers(raw, *reply);
        else
            takeElements(raw, *reply);
    }
    return std::nullopt;
}

std::optional<QString> NodeScan::readCompanions(std::size_t from)
{
    std::vector<std::pair<std::size_t, std::vector<QByteArray>>> wanted;
    for (std::size_t i = from; i < m_harvest.raws.size(); ++i) {
        const RawEntry &raw = m_harvest.raws[i];
        if (raw.type == RawEntry::Type::Missing)
            continue;
        if (auto keys = m_registry.companionKeys(m_harvest.keys[i], raw); !keys.empty())
            wanted.emplace_back(i, std::move(keys));
    }
    if (wanted.empty())
        return std::nullopt;
    m_connection.append({QByteArrayView("TIME")});
    for (const auto &[index, keys] : wanted) {
        for (const QByteArray &key : keys) {
            for (const auto &command : readAnyCommands(key))
                m_connection.append(std::span<const QByteArray>(command));
        }
    }
    if (auto flushed = m_connection.flush(); !flushed)
        return flushed.error().toString();
    auto time = m_connection.readReply();
    if (!time)
        return time.error().toString();
    const qint64 timeMs = serverTimeMs(*time);
    std::vector<redis::RedisReply> replies(ReadAnyReplies);
    for (const auto &[index, keys] : wanted) {
        RawEntry &raw = m_harvest.raws[index];
        if (raw.serverTimeMs == 0)
            raw.serverTimeMs = timeMs;
        for (const QByteArray &key : keys) {
            for (redis::RedisReply &reply : replies) {
                auto read = m_connection.readReply();
                if (!read)
                    return read.error().toString();
                reply = std::move(*read);
            }
            raw.companions.emplace_back(key, rawFromReplies(replies, timeMs));
        }
    }
    return std::nullopt;
}

} // namespace lockscope::inspect::detail
