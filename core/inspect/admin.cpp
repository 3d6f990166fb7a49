#include "admin.h"

#include "keyread.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "redis/connection.h"
#include "redis/script.h"
#include "util/displaytext.h"

#include <QJsonDocument>
#include <algorithm>
#include <functional>
#include <map>
#include <optional>

namespace lockscope::inspect {

using redis::Connection;

namespace {

/// One script for every owner-checked admin write, so that the comparison and the write are
/// atomic on each node.
///
/// KEYS: lock key, and its fencing counter when ARGV[3] asks for the bump (fenceCounterKey).
/// ARGV[1]: "del" | "pexpire" (the TTL becomes ARGV[3]) | "pexpire-add" (ARGV[3] is added to
///          the TTL left; a key without a TTL gets ARGV[3])
/// ARGV[2]: what must still be there: "string" (GET == ARGV[4]), "hash" (HGETALL has exactly
///          the field/value pairs ARGV[5..]), "any" (whatever is there: unconditional),
///          "member" (the sorted set has the member ARGV[4]: one holder of a lock of several;
///          the actions are then "zrem" (ARGV[3] as for del) and "zextend" (ARGV[3]: ms, the
///          member's deadline becomes the server's now + ms), the PTTL before is the member's
///          time left, and ARGV[5] "1" makes the key expire with its latest deadline again)
/// ARGV[3]: del: "1" to INCR the fencing counter after the delete, "0" not to;
///          pexpire, pexpire-add: milliseconds
/// Returns {1, new fence or 0, PTTL before} deleted, {1, new TTL in ms, PTTL before} extended,
/// {0, 0, PTTL} changed (nothing written), {-1, 0, -2} missing: the PTTL is read in the same
/// script, so the audit records the TTL the action really replaced, not the one shown earlier.
const redis::Script &adminScript()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return {-1, 0, -2} end
local before = redis.call('PTTL', KEYS[1])
local compare = ARGV[2]
if compare == 'string' then
  if t ~= 'string' or redis.call('GET', KEYS[1]) ~= ARGV[4] then return {0, 0, before} end
elseif compare == 'hash' then
  if t ~= 'hash' then return {0, 0, before} end
  local all = redis.call('HGETALL', KEYS[1])
  if #all ~= #ARGV - 4 then return {0, 0, before} end
  local want = {}
  for i = 5, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
  for i = 1, #all, 2 do
    if want[all[i]] ~= all[i + 1] then return {0, 0, before} end
  end
elseif compare == 'member' then
  if t ~= 'zset' then return {0, 0, before} end
  local score = redis.call('ZSCORE', KEYS[1], ARGV[4])
  if not score then return {0, 0, before} end
  local tm = redis.call('TIME')
  local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
  local deadline = tonumber(score) or math.huge
  if deadline == math.huge then before = -1 else before = deadline - now end
  local result = 0
  if ARGV[1] == 'zrem' then
    redis.call('ZREM', KEYS[1], ARGV[4])
    if ARGV[3] == '1' then result = redis.call('INCR', KEYS[2]) end
  else
    result = tonumber(ARGV[3])
    redis.call('ZADD', KEYS[1], 'XX', now + result, ARGV[4])
  end
  if ARGV[5] == '1' then
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    local latest = #last > 0 and tonumber(last[2])
    if latest and latest ~= math.huge then redis.call('PEXPIRE', KEYS[1], math.max(1, latest - now)) end
  end
  return {1, result, before}
elseif compare ~= 'any' then
  return redis.error_reply('unknown comparison ' .. compare)
end
if ARGV[1] == 'pexpire' or ARGV[1] == 'pexpire-add' then
  local ms = tonumber(ARGV[3])
  if ARGV[1] == 'pexpire-add' and before > 0 then ms = ms + before end
  redis.call('PEXPIRE', KEYS[1], ms)
  return {1, ms, before}
end
redis.call('DEL', KEYS[1])
local fence = 0
if ARGV[3] == '1' then fence = redis.call('INCR', KEYS[2]) end
return {1, fence, before}
)lua"));
    return script;
}

/// The value the operator saw, for the audit log: the string, or the hash as a JSON object.
QByteArray shownValue(const RawEntry &raw)
{
    if (raw.type != RawEntry::Type::Hash)
        return raw.value;
    QJsonObject object;
    for (const auto &[field, value] : raw.fields)
        object.insert(QString::fromUtf8(field), QString::fromUtf8(value));
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QString typeName(const RawEntry &raw)
{
    if (!raw.typeName.isEmpty())
        return raw.typeName;
    switch (raw.type) {
    case RawEntry::Type::Missing:
        return QStringLiteral("none");
    case RawEntry::Type::String:
        return QStringLiteral("string");
    case RawEntry::Type::Hash:
        return QStringLiteral("hash");
    case RawEntry::Type::Other:
        break;
    }
    return QStringLiteral("other");
}

struct ScriptOutcome
{
    AdminOutcome outcome; ///< Done, Changed, Missing or Error
    QString detail;
    qint64 fence = 0;
    std::optional<qint64> pttlBefore; ///< what the script read before acting; none on an error
};

/// LockScope's fence counter of `key` on the node. Its name depends on the writer's key prefix
/// (lock::fenceKeyFor), which is not known here: of the names the key suggests
/// (lock::possibleKeyPrefixes), the one with the highest count, read in one more round trip
/// when there are several; none there: the unprefixed one, as before prefixes applied (an
/// acquire under a prefix then starts its counter from it).
QByteArray fenceCounterKey(Connection &connection, const QByteArray &key)
{
    std::vector<QByteArray> names;
    for (const QByteArray &prefix : lock::possibleKeyPrefixes(key)) {
        QByteArray name = lock::fenceKeyFor(key, prefix);
        if (std::ranges::find(names, name) == names.end())
            names.push_back(std::move(name));
    }
    if (names.size() == 1)
        return names.front();
    std::vector<std::vector<QByteArray>> commands;
    for (const QByteArray &name : names)
        commands.push_back({QByteArrayLiteral("GET"), name});
    const auto replies = connection.pipeline(commands);
    QByteArray counter = names.front();
    qint64 highest = -1;
    for (std::size_t i = 0; replies && i < replies->size() && i < names.size(); ++i) {
        bool ok = false;
        const qint64 value = (*replies)[i].isString() ? (*replies)[i].bytes().toLongLong(&ok) : -1;
        if (ok && value > highest) {
            highest = value;
            counter = names[i];
        }
    }
    return counter;
}

ScriptOutcome runScript(Connection &connection, const QByteArray &key, std::vector<QByteArray> args)
{
    // Only a bump names the counter: an ACL limited to a Locker's prefix may not allow the
    // unprefixed name, and every declared key is checked before the script runs.
    const bool bump = args.size() > 2 && (args[0] == "del" || args[0] == "zrem") && args[2] == "1";
    std::vector<QByteArray> keys{key};
    if (bump)
        keys.push_back(fenceCounterKey(connection, key));
    auto reply = connection.eval(adminScript(), keys, args);
    if (!reply)
        return {AdminOutcome::Error, reply.error().toString(), 0, std::nullopt};
    if (!reply->isArray() || reply->elements().size() != 3 || !reply->elements()[0].isInteger())
        return {AdminOutcome::Error,
                QStringLiteral("%1: unexpected reply %2").arg(connection.node(), reply->toDisplayString()), 0,
                std::nullopt};
    const qint64 status = reply->elements()[0].integer();
    const qint64 before = reply->elements()[2].integer();
    if (status == 1)
        return {AdminOutcome::Done, {}, reply->elements()[1].integer(), before};
    if (status == 0)
        return {AdminOutcome::Changed, QStringLiteral("the lock changed since it was shown: nothing done"), 0,
                before};
    return {AdminOutcome::Missing, QStringLiteral("the key is gone"), 0, before};
}

/// The script arguments after the action and its parameter: comparison, value, hash fields.
void appendComparison(std::vector<QByteArray> &args, const RawEntry &raw, bool unconditional)
{
    if (unconditional) {
        args.insert(args.begin() + 1, QByteArrayLiteral("any"));
        args.push_back({});
        return;
    }
    if (raw.type == RawEntry::Type::Hash) {
        args.insert(args.begin() + 1, QByteArrayLiteral("hash"));
        args.push_back({});
        for (const auto &[field, value] : raw.fields) {
            args.push_back(field);
            args.push_back(value);
        }
        return;
    }
    args.insert(args.begin() + 1, QByteArrayLiteral("string"));
    args.push_back(raw.value);
}

/// The labels of a lock's holders (" — “nightly report”, “operator alice@box”"), at most five:
/// the owner text of a lock of several holders names their hosts, and one host often runs
/// many; the label names the service or the operator.
QString holderLabels(const std::vector<LockHolder> &holders)
{
    constexpr qsizetype MaxLabels = 5;
    QStringList labels;
    qsizetype more = 0;
    for (const LockHolder &holder : holders) {
        const auto value = lock::LockValue::parse(holder.raw);
        if (!value || value->label.isEmpty())
            continue;
        if (labels.size() == MaxLabels)
            ++more;
        else
            labels << QStringLiteral("“%1”").arg(displayTextPrefix(value->label.toUtf8(), 80));
    }
    if (labels.isEmpty())
        return {};
    if (more > 0)
        labels << QStringLiteral("%1 more").arg(more);
    return QStringLiteral(" — ") + labels.join(QStringLiteral(", "));
}

/// The holder one node shows, for people: the owner text every view shows for that value
/// (ownerText), then the schema that read it, or, when none could, the value itself (escaped,
/// shortened).
QString describeHolder(const QString &node, const QByteArray &key, const RawEntry &raw,
                       const SchemaRegistry &registry)
{
    NodeEntry entry;
    entry.node = node;
    entry.raw = raw;
    entry.decoded = registry.decode(key, raw);
    std::vector<NodeEntry> entries;
    entries.push_back(std::move(entry));
    const LockRecord record = aggregate(key, std::move(entries));
    if (!record.schema.isEmpty()) {
        QString who = ownerText(record);
        if (const NodeEntry *majority = majorityEntry(record);
            majority && majority->decoded && raw.isSortedSet())
            who += holderLabels(majority->decoded->holders);
        return QStringLiteral("%1 (%2)").arg(who, record.schema);
    }
    const QString value = raw.type == RawEntry::Type::String
                              ? QStringLiteral("value \"%1\"").arg(displayTextPrefix(raw.value, 80))
                              : QStringLiteral("a %1 value").arg(typeName(raw));
    return QStringLiteral("%1 (%2)").arg(ownerText(record), value);
}

QString auditResult(const AdminNodeResult &result)
{
    switch (result.outcome) {
    case AdminOutcome::Done:
        return QStringLiteral("ok");
    case AdminOutcome::Changed:
    case AdminOutcome::Missing:
        return outcomeName(result.outcome);
    case AdminOutcome::Refused:
    case AdminOutcome::Error:
        break;
    }
    return outcomeName(result.outcome) + QStringLiteral(": ") + result.detail;
}

} // namespace

QString outcomeName(AdminOutcome outcome)
{
    switch (outcome) {
    case AdminOutcome::Done:
        return QStringLiteral("done");
    case AdminOutcome::Changed:
        return QStringLiteral("changed");
    case AdminOutcome::Missing:
        return QStringLiteral("missing");
    case AdminOutcome::Refused:
        return QStringLiteral("refused");
    case AdminOutcome::Error:
        break;
    }
    return QStringLiteral("error");
}

// --- Admin ------------------------------------------------------------------------------------

Admin::Admin(QString group, std::vector<AdminNode> nodes, Operator who, AuditLog *audit)
    : m_group(std::move(group)), m_nodes(std::move(nodes)), m_operator(std::move(who)), m_audit(audit)
{
    // One guard, whichever way it was given: an AdminNode's flag or its config's.
    for (AdminNode &node : m_nodes) {
        node.readOnly = node.readOnly || node.config.readOnly;
        node.config.readOnly = node.readOnly;
    }
}

namespace {

/// The group node an entry of the record belongs to: by label, else by position.
const AdminNode *nodeFor(const std::vector<AdminNode> &nodes, const LockRecord &record, std::size_t index)
{
    const QString &label = record.nodes[index].node;
    for (const AdminNode &node : nodes)
        if (node.config.label() == label)
            return &node;
    if (record.nodes.size() == nodes.size())
        return &nodes[index];
    return nullptr;
}

/// ok, the message and whether an audit line could not be written.
void summarize(AdminResult &result, const QString &done, bool auditFailed, const QString &auditPath)
{
    int doneCount = 0;
    QStringList changed, refused, failed, missing;
    for (const AdminNodeResult &node : result.nodes) {
        switch (node.outcome) {
        case AdminOutcome::Done:
            ++doneCount;
            break;
        case AdminOutcome::Changed:
            changed << node.node;
            break;
        case AdminOutcome::Refused:
            refused << node.node;
            break;
        case AdminOutcome::Missing:
            missing << node.node;
            break;
        case AdminOutcome::Error:
            failed << node.node;
            break;
        }
    }
    result.ok = !result.nodes.empty() && doneCount == static_cast<int>(result.nodes.size());
    QStringList parts;
    if (result.nodes.empty())
        parts << QStringLiteral("the key is on no node: nothing to do");
    else
        parts << QStringLiteral("%1 on %2 of %3 nodes").arg(done).arg(doneCount).arg(result.nodes.size());
    if (!changed.isEmpty())
        parts << QStringLiteral("the lock changed since it was shown: nothing done on %1")
                     .arg(changed.join(QStringLiteral(", ")));
    if (!missing.isEmpty())
        parts << QStringLiteral("already gone on %1").arg(missing.join(QStringLiteral(", ")));
    if (!refused.isEmpty())
        parts << QStringLiteral("refused on %1").arg(refused.join(QStringLiteral(", ")));
    if (!failed.isEmpty())
        parts << QStringLiteral("failed on %1").arg(failed.join(QStringLiteral(", ")));
    if (auditFailed)
        parts << QStringLiteral("the audit log %1 could not be written").arg(auditPath);
    result.message = parts.join(QStringLiteral("; "));
}

/// What an owner-checked write did on one node it was allowed to write to.
struct NodeWrite
{
    NodeWrite(AdminOutcome what, QString why, std::optional<qint64> ttlRead = std::nullopt)
        : outcome(what), detail(std::move(why)), ttlBefore(ttlRead)
    {}

    AdminOutcome outcome;
    QString detail;
    /// The TTL the script read before it acted, which the audit line records instead of the
    /// one shown; none when nothing was sent or the script failed.
    std::optional<qint64> ttlBefore;
    AuditEntry after; ///< what the audit line records as written (extend: the new TTL)
};

/// What the operator saw on one node, as the audit line records it.
struct Shown
{
    QByteArray value;
    qint64 ttlMs = -2;
};

/// The value and TTL a node showed for the whole key.
Shown shownEntry(const NodeEntry &entry)
{
    return {shownValue(entry.raw), entry.raw.pttlMs};
}

/// Admin::audit: appends one audit line; false when it could not be written.
using AuditFn = std::function<bool(const QString &node, const QByteArray &key, const QString &action,
                                   const QByteArray &valueBefore, qint64 ttlBeforeMs, const QString &result,
                                   const AuditEntry &after)>;

/// How an action names itself: in the audit log ("force-release") and in its summary ("released").
struct ActionNames
{
    QString audit;
    QString done;
};

/// The loop the owner-checked writes share (forceRelease, extend, the holder actions): every
/// node that holds the key, in the record's order, is matched to its group node (an Error when
/// it is not in the group) and refused when read-only; only then does `write(entry, node)` run,
/// which makes the action's own checks and sends its script. Every attempt gets one audit line,
/// refused ones included, with `shownOf(entry)` as the value and TTL before (the TTL the script
/// read replaces the one shown); then the result is summarized.
template <typename ShownOf, typename Write>
AdminResult writeEachNode(const LockRecord &record, const ActionNames &names,
                          const std::vector<AdminNode> &nodes, const QString &group, const AuditFn &audit,
                          const QString &auditPath, ShownOf shownOf, Write write)
{
    AdminResult result;
    bool auditFailed = false;
    for (std::size_t i = 0; i < record.nodes.size(); ++i) {
        const NodeEntry &entry = record.nodes[i];
        if (!entry.present())
            continue;
        const Shown shown = shownOf(entry);
        const AdminNode *node = nodeFor(nodes, record, i);
        const NodeWrite written = [&] {
            if (!node)
                return NodeWrite(AdminOutcome::Error,
                                 QStringLiteral("node %1 is not in group %2").arg(entry.node, group));
            if (node->readOnly)
                return NodeWrite(AdminOutcome::Refused, QStringLiteral("read-only"));
            return write(entry, *node);
        }();
        AdminNodeResult nodeResult{entry.node, written.outcome, written.detail};
        auditFailed |=
            !audit(entry.node, record.key, names.audit, shown.value, written.ttlBefore.value_or(shown.ttlMs),
                   auditResult(nodeResult), written.after);
        result.nodes.push_back(std::move(nodeResult));
    }
    summarize(result, names.done, auditFailed, auditPath);
    return result;
}

} // namespace

AdminResult Admin::forceRelease(const LockRecord &record, const SchemaRegistry &registry, bool unconditional)
{
    const auto schema = record.schema.isEmpty() ? nullptr : registry.find(record.schema);
    const bool bumpFence = record.schema == QLatin1String("lockscope");
    const QString action = unconditional ? QStringLiteral("force-delete") : QStringLiteral("force-release");
    const auto write = [&](const NodeEntry &entry, const AdminNode &node) {
        if (!unconditional && record.kind == QLatin1String(lockKind::Semaphore) &&
            entry.raw.type == RawEntry::Type::String) {
            // Redisson keeps a semaphore's available permits in this string: without it every
            // acquire fails until someone sets the permits again.
            return NodeWrite(
                AdminOutcome::Refused,
                QStringLiteral("the value is a semaphore's permit counter: deleting it would leave "
                               "the semaphore without permits"));
        }
        if (!unconditional && entry.raw.type != RawEntry::Type::String &&
            entry.raw.type != RawEntry::Type::Hash) {
            return NodeWrite(
                AdminOutcome::Refused,
                QStringLiteral("a %1 value cannot be compared; only an unconditional delete removes it")
                    .arg(typeName(entry.raw)));
        }
        Connection connection(node.config);
        std::vector<QByteArray> args{QByteArrayLiteral("del"),
                                     bumpFence ? QByteArrayLiteral("1") : QByteArrayLiteral("0")};
        appendComparison(args, entry.raw, unconditional);
        const ScriptOutcome outcome = runScript(connection, record.key, std::move(args));
        NodeWrite written(outcome.outcome, outcome.detail, outcome.pttlBefore);
        if (outcome.outcome == AdminOutcome::Changed)
            written.detail = QStringLiteral("the lock changed since it was shown: nothing deleted");
        if (outcome.outcome == AdminOutcome::Done) {
            written.detail = bumpFence ? QStringLiteral("deleted; fence counter now %1").arg(outcome.fence)
                                       : QStringLiteral("deleted");
            // Wake the schema's waiters (Redisson publishes an unlock message).
            if (schema) {
                for (const auto &command : schema->afterRelease(record.key)) {
                    auto reply = connection.command(command);
                    if (!reply)
                        written.detail +=
                            QStringLiteral("; wake-up failed: %1").arg(reply.error().toString());
                }
            }
        }
        return written;
    };
    return writeEachNode(record,
                         {action, unconditional ? QStringLiteral("deleted") : QStringLiteral("released")},
                         m_nodes, m_group, std::bind_front(&Admin::audit, this),
                         m_audit ? m_audit->path() : QString(), shownEntry, write);
}

namespace {
/// The schemas whose holders are sorted-set members an operator may remove one by one, and
/// whether a member's score is its deadline (then extendHolder applies, and the key's expiry
/// follows its latest holder). Redisson's permit sets are left out: removing a permit id
/// without returning the permit to the counter would lose the permit.
enum class HolderScores
{
    Unsupported, ///< holders LockScope does not change one by one
    Deadlines,   ///< LockScope's kinds: a member's score is its deadline
    Other,       ///< redis-semaphore: scores are acquire times (release only)
};

HolderScores holderScores(const QString &schema)
{
    if (schema == QLatin1String("lockscope-kinds"))
        return HolderScores::Deadlines;
    if (schema == QLatin1String("redis-semaphore"))
        return HolderScores::Other;
    return HolderScores::Unsupported;
}
} // namespace

QString Admin::holderActionRefusal(const QString &schema, bool release)
{
    switch (holderScores(schema)) {
    case HolderScores::Unsupported:
        return QStringLiteral("not a lock of several holders LockScope can change one by one (%1)")
            .arg(schema.isEmpty() ? QStringLiteral("undecoded") : schema);
    case HolderScores::Other:
        return release ? QString()
                       : QStringLiteral("its holders' scores are not deadlines: only a release applies");
    case HolderScores::Deadlines:
        return {};
    }
    return {};
}

AdminResult Admin::forceReleaseHolder(const LockRecord &record, const QByteArray &token)
{
    return holderAction(record, token, QByteArrayLiteral("zrem"), {});
}

AdminResult Admin::extendHolder(const LockRecord &record, const QByteArray &token,
                                std::chrono::milliseconds ttl)
{
    return holderAction(record, token, QByteArrayLiteral("zextend"), ttl);
}

AdminResult Admin::holderAction(const LockRecord &record, const QByteArray &token, const QByteArray &action,
                                std::chrono::milliseconds ttl)
{
    const bool release = action == "zrem";
    const QString name = release ? QStringLiteral("force-release-holder") : QStringLiteral("extend-holder");
    // The holder with `token` as this node showed it (the last, should a token appear twice).
    const auto holderOn = [&token](const NodeEntry &entry) -> const LockHolder * {
        const LockHolder *holder = nullptr;
        if (entry.decoded) {
            for (const LockHolder &candidate : entry.decoded->holders) {
                if (candidate.token == token)
                    holder = &candidate;
            }
        }
        return holder;
    };
    const auto write = [&](const NodeEntry &entry, const AdminNode &node) {
        if (const QString refusal =
                holderActionRefusal(entry.decoded ? entry.decoded->schema : QString(), release);
            !refusal.isEmpty())
            return NodeWrite(AdminOutcome::Refused, refusal);
        if (!release && ttl.count() <= 0)
            return NodeWrite(AdminOutcome::Refused, QStringLiteral("the TTL must be positive"));
        const LockHolder *holder = holderOn(entry);
        if (!holder || !entry.raw.isSortedSet())
            return NodeWrite(AdminOutcome::Missing, QStringLiteral("no such holder on this node"));
        // Not refused above: decoded by a schema whose holders can be changed one by one.
        const bool deadlines = holderScores(entry.decoded->schema) == HolderScores::Deadlines;
        Connection connection(node.config);
        const bool bump = release && entry.decoded->schema == QLatin1String("lockscope-kinds");
        std::vector<QByteArray> args{action, QByteArrayLiteral("member"),
                                     release ? (bump ? QByteArrayLiteral("1") : QByteArrayLiteral("0"))
                                             : QByteArray::number(qint64(ttl.count())),
                                     holder->raw,
                                     deadlines ? QByteArrayLiteral("1") : QByteArrayLiteral("0")};
        const ScriptOutcome outcome = runScript(connection, record.key, std::move(args));
        NodeWrite written(outcome.outcome, {}, outcome.pttlBefore);
        if (outcome.outcome == AdminOutcome::Changed)
            written.detail = QStringLiteral("the holder changed since it was shown: nothing done");
        else if (outcome.outcome != AdminOutcome::Done)
            written.detail = outcome.detail;
        else if (release)
            written.detail = bump ? QStringLiteral("holder removed; fence counter now %1").arg(outcome.fence)
                                  : QStringLiteral("holder removed");
        else
            written.detail = QStringLiteral("holder's TTL set to %1 ms").arg(outcome.fence);
        return written;
    };
    return writeEachNode(
        record, {name, release ? QStringLiteral("released") : QStringLiteral("extended")}, m_nodes, m_group,
        std::bind_front(&Admin::audit, this), m_audit ? m_audit->path() : QString(),
        [&holderOn](const NodeEntry &entry) {
            const LockHolder *holder = holderOn(entry);
            return holder ? Shown{holder->raw, holder->pttlMs} : Shown{QByteArray(), entry.raw.pttlMs};
        },
        write);
}

bool Admin::auditStopped(const LockRecord &record, const QString &action, const QString &result)
{
    bool ok = true;
    for (const NodeEntry &entry : record.nodes) {
        if (entry.present())
            ok &= audit(entry.node, record.key, action, shownValue(entry.raw), entry.raw.pttlMs, result);
    }
    return ok;
}

AdminResult Admin::extend(const LockRecord &record, std::chrono::milliseconds ttl, lock::ExtendMode mode)
{
    const bool add = mode == lock::ExtendMode::Add;
    const QString action = add ? QStringLiteral("extend-add") : QStringLiteral("extend");
    const auto write = [&](const NodeEntry &entry, const AdminNode &node) {
        if (ttl.count() <= 0)
            return NodeWrite(AdminOutcome::Refused, QStringLiteral("the TTL must be positive"));
        if (entry.raw.type != RawEntry::Type::String && entry.raw.type != RawEntry::Type::Hash)
            return NodeWrite(AdminOutcome::Refused,
                             QStringLiteral("a %1 value cannot be compared").arg(typeName(entry.raw)));
        Connection connection(node.config);
        std::vector<QByteArray> args{add ? QByteArrayLiteral("pexpire-add") : QByteArrayLiteral("pexpire"),
                                     QByteArray::number(qint64(ttl.count()))};
        appendComparison(args, entry.raw, false);
        const ScriptOutcome outcome = runScript(connection, record.key, std::move(args));
        NodeWrite written(outcome.outcome, {}, outcome.pttlBefore);
        if (outcome.outcome == AdminOutcome::Done)
            written.after.ttlAfterMs = outcome.fence;
        if (outcome.outcome != AdminOutcome::Done)
            written.detail = outcome.detail;
        else if (add)
            written.detail =
                QStringLiteral("TTL now %1 ms (%2 ms added)").arg(outcome.fence).arg(ttl.count());
        else
            written.detail = QStringLiteral("TTL set to %1 ms").arg(ttl.count());
        if (outcome.outcome == AdminOutcome::Changed)
            written.detail = QStringLiteral("the lock changed since it was shown: not extended");
        return written;
    };
    return writeEachNode(record, {action, QStringLiteral("extended")}, m_nodes, m_group,
                         std::bind_front(&Admin::audit, this), m_audit ? m_audit->path() : QString(),
                         shownEntry, write);
}

namespace {

/// The kind as a noun: "mutex", "read lock", "semaphore", ...
QString kindNoun(lock::LockKind kind)
{
    switch (kind) {
    case lock::LockKind::Mutex:
    case lock::LockKind::Semaphore:
        return lock::lockKindName(kind);
    case lock::LockKind::Read:
    case lock::LockKind::Write:
    case lock::LockKind::Reentrant:
    case lock::LockKind::Fair:
        break;
    }
    return lock::lockKindName(kind) + QStringLiteral(" lock");
}

/// The holders of a read/write lock or semaphore whose deadline has not passed on the node's
/// clock (the acquire script drops the others only when it runs); -1 when not a sorted set.
int liveHolders(const RawEntry &raw)
{
    if (!raw.isSortedSet())
        return -1;
    return static_cast<int>(std::ranges::count_if(raw.members, [&](const auto &member) {
        return raw.serverTimeMs <= 0 || member.second > double(raw.serverTimeMs);
    }));
}

/// Why a node refused because the key is a lock of another kind or another data type (the
/// Locker's words), empty for any other vote.
QString mismatchCause(const lock::NodeVote &vote, lock::LockErrorKind errorKind, lock::LockKind kind)
{
    if (vote.outcome != lock::NodeVote::Outcome::Error || !vote.error)
        return {};
    // A mutex, reentrant or fair lock is a string: on a sorted set (a read/write lock, a
    // semaphore) or a list its script fails with WRONGTYPE.
    if (vote.error->kind == redis::ErrorKind::WrongType)
        return QStringLiteral("a %1 is a string key; this key is another type (another kind of lock, "
                              "or not a lock)")
            .arg(kindNoun(kind));
    // A read/write lock or semaphore on another kind: the script's refusal, in the Locker's words.
    if (errorKind == lock::LockErrorKind::KindMismatch && vote.error->kind == redis::ErrorKind::Server)
        return vote.error->message;
    return {};
}

} // namespace

QString AdminAcquireKind::refusal() const
{
    using lock::LockKind;
    if (lock::lockKindName(kind).isEmpty())
        return QStringLiteral("unknown lock kind %1").arg(static_cast<int>(kind));
    if (kind == LockKind::Semaphore && permits < 1)
        return QStringLiteral("a semaphore needs 1 or more permits, not %1").arg(permits);
    if (kind != LockKind::Semaphore && permits != 0)
        return QStringLiteral("permits apply to a semaphore, not to a %1").arg(kindNoun(kind));
    if (kind != LockKind::Reentrant && !owner.isEmpty())
        return QStringLiteral("an owner id applies to a reentrant lock, not to a %1").arg(kindNoun(kind));
    return {};
}

QString AdminAcquireKind::name() const
{
    if (kind == lock::LockKind::Semaphore)
        return permits == 1 ? QStringLiteral("semaphore of 1 permit")
                            : QStringLiteral("semaphore of %1 permits").arg(permits);
    const QString name = lock::lockKindName(kind);
    return name.isEmpty() ? QStringLiteral("unknown kind %1").arg(static_cast<int>(kind)) : name;
}

AdminResult Admin::acquire(const QByteArray &key, std::chrono::milliseconds ttl, const QString &note,
                           std::chrono::milliseconds wait, const AdminAcquireKind &kind)
{
    using lock::LockKind;
    AdminResult result;
    bool auditFailed = false;
    // A mutex keeps the action its audit lines always had.
    const QString action = kind.kind == LockKind::Mutex ? QStringLiteral("acquire")
                                                        : QStringLiteral("acquire (%1)").arg(kind.name());
    const auto auditAcquire = [&](const QString &node, const QByteArray &valueBefore, qint64 ttlBefore,
                                  const QString &outcome, const AuditEntry &after = {}) {
        auditFailed |= !audit(node, key, action, valueBefore, ttlBefore, outcome, after);
    };

    QStringList readOnly;
    for (const AdminNode &node : m_nodes)
        if (node.readOnly)
            readOnly << node.config.label();
    const QString kindRefusal = kind.refusal();
    if (!readOnly.isEmpty() || m_nodes.empty() || key.isEmpty() || ttl.count() <= 0 ||
        !kindRefusal.isEmpty()) {
        // Refused outright: nothing is sent to any node.
        QString why;
        if (!readOnly.isEmpty())
            why =
                QStringLiteral("the group has read-only nodes (%1)").arg(readOnly.join(QStringLiteral(", ")));
        else if (m_nodes.empty())
            why = QStringLiteral("the group has no nodes");
        else if (key.isEmpty())
            why = QStringLiteral("empty key");
        else if (ttl.count() <= 0)
            why = QStringLiteral("the TTL must be positive");
        else
            why = kindRefusal;
        for (const AdminNode &node : m_nodes) {
            const QString detail = node.readOnly ? QStringLiteral("read-only") : why;
            result.nodes.push_back({node.config.label(), AdminOutcome::Refused, detail});
            auditAcquire(node.config.label(), {}, -2, QStringLiteral("refused: ") + detail);
        }
        result.ok = false;
        result.message = QStringLiteral("acquire refused: %1").arg(why);
        if (auditFailed)
            result.message += QStringLiteral("; the audit log %1 could not be written").arg(m_audit->path());
        return result;
    }

    std::vector<redis::NodeConfig> configs;
    configs.reserve(m_nodes.size());
    for (const AdminNode &node : m_nodes)
        configs.push_back(node.config);
    lock::LockerOptions lockerOptions;
    lockerOptions.poolSize = 1;
    lock::Locker locker(configs, lockerOptions);
    lock::AcquireOptions options;
    options.kind = kind.kind;
    options.permits = kind.permits;
    options.token = kind.owner;
    options.ttl = ttl;
    options.label = m_operator.label(note);
    options.thread = QStringLiteral("lockscope-admin");
    options.wait = wait;
    auto acquired = wait.count() > 0 ? locker.acquire(key, options) : locker.tryAcquire(key, options);

    const std::vector<lock::NodeVote> &votes = acquired ? acquired->votes : acquired.error().votes;
    const auto causeOf = [&](const lock::NodeVote &vote) {
        return acquired ? QString() : mismatchCause(vote, acquired.error().kind, kind.kind);
    };
    // Who holds it, read once after the attempt (it may have changed hands since the vote).
    struct Holder
    {
        RawEntry raw;
        QString who; ///< empty when the key was gone by the time it was read
    };
    std::map<QString, Holder> holders;
    if (!acquired) {
        const SchemaRegistry registry = SchemaRegistry::builtins();
        for (const lock::NodeVote &vote : votes) {
            if (vote.outcome != lock::NodeVote::Outcome::Held && causeOf(vote).isEmpty())
                continue;
            for (const AdminNode &node : m_nodes) {
                if (node.config.label() != vote.node)
                    continue;
                Connection connection(node.config);
                Holder holder{readKey(connection, key).raw, {}};
                if (holder.raw.type != RawEntry::Type::Missing)
                    holder.who = describeHolder(vote.node, key, holder.raw, registry);
                if (result.heldBy.isEmpty())
                    result.heldBy = holder.who;
                holders.emplace(vote.node, std::move(holder));
                break;
            }
        }
    }
    for (const lock::NodeVote &vote : votes) {
        AdminNodeResult nodeResult{vote.node, AdminOutcome::Error, {}};
        qint64 ttlBefore = -2;
        QByteArray valueBefore;
        QString auditText;
        AuditEntry after;
        const QString mismatch = causeOf(vote);
        switch (vote.outcome) {
        case lock::NodeVote::Outcome::Granted:
            nodeResult.outcome = AdminOutcome::Done;
            nodeResult.detail = QStringLiteral("fence %1").arg(vote.fence);
            auditText = QStringLiteral("ok");
            if (acquired) {
                // What this node now holds: the value (with the fence) and the token.
                after.valueAfter = acquired->value;
                after.tokenAfter = acquired->token;
                after.ttlAfterMs = acquired->ttl.count();
            }
            break;
        case lock::NodeVote::Outcome::Held: {
            nodeResult.outcome = AdminOutcome::Changed;
            nodeResult.detail = QStringLiteral("held by another owner (TTL %1 ms)").arg(vote.pttl);
            ttlBefore = vote.pttl;
            auditText = QStringLiteral("held");
            if (const auto holder = holders.find(vote.node); holder != holders.end()) {
                valueBefore = shownValue(holder->second.raw);
                nodeResult.detail =
                    holder->second.who.isEmpty()
                        ? QStringLiteral("held by another owner (TTL %1 ms), gone since").arg(vote.pttl)
                        : QStringLiteral("held by %1 (TTL %2 ms)")
                              .arg(holder->second.who)
                              .arg(holder->second.raw.pttlMs);
            }
            break;
        }
        case lock::NodeVote::Outcome::Released:
            nodeResult.outcome = AdminOutcome::Error;
            nodeResult.detail = QStringLiteral("granted, then released again: no quorum");
            auditText = QStringLiteral("error: released again (no quorum)");
            break;
        case lock::NodeVote::Outcome::NotHeld:
        case lock::NodeVote::Outcome::Error:
            if (!mismatch.isEmpty()) {
                // Held as another kind: nothing was written, as for a lock another owner holds.
                nodeResult.outcome = AdminOutcome::Changed;
                nodeResult.detail = mismatch;
                auditText = QStringLiteral("held: ") + mismatch;
                if (const auto holder = holders.find(vote.node); holder != holders.end()) {
                    valueBefore = shownValue(holder->second.raw);
                    ttlBefore = holder->second.raw.pttlMs;
                    if (!holder->second.who.isEmpty())
                        nodeResult.detail += QStringLiteral("; held by %1 (TTL %2 ms)")
                                                 .arg(holder->second.who)
                                                 .arg(holder->second.raw.pttlMs);
                }
                break;
            }
            nodeResult.outcome = AdminOutcome::Error;
            nodeResult.detail =
                vote.error ? vote.error->toString() : lock::NodeVote::outcomeName(vote.outcome);
            auditText = QStringLiteral("error: ") + nodeResult.detail;
            break;
        }
        auditAcquire(vote.node, valueBefore, ttlBefore, auditText, after);
        result.nodes.push_back(std::move(nodeResult));
    }
    if (acquired) {
        result.ok = true;
        // What was taken, beyond a mutex: how many share it now, read from the granting nodes.
        int sharing = -1;
        if (kind.kind == LockKind::Read || kind.kind == LockKind::Semaphore) {
            std::vector<redis::NodeConfig> granting;
            for (const lock::NodeVote &vote : votes)
                for (const redis::NodeConfig &config : configs)
                    if (vote.outcome == lock::NodeVote::Outcome::Granted && config.label() == vote.node)
                        granting.push_back(config);
            for (const KeyRead &read : readKeyOnNodes(granting, key))
                if (!read.error)
                    sharing = std::max(sharing, liveHolders(read.raw));
        }
        QString taken;
        switch (kind.kind) {
        case LockKind::Mutex:
            break;
        case LockKind::Read:
            taken = sharing < 1    ? QStringLiteral("read lock")
                    : sharing == 1 ? QStringLiteral("read lock, 1 reader")
                                   : QStringLiteral("read lock, %1 readers").arg(sharing);
            break;
        case LockKind::Write:
            taken = QStringLiteral("write lock");
            break;
        case LockKind::Semaphore:
            taken = sharing < 1
                        ? QStringLiteral("a permit of %1").arg(acquired->permits)
                        : QStringLiteral("%1 of %2 permits taken").arg(sharing).arg(acquired->permits);
            break;
        case LockKind::Reentrant:
            taken = QStringLiteral("reentrant, hold count %1").arg(acquired->holds);
            break;
        case LockKind::Fair:
            taken = QStringLiteral("fair lock");
            break;
        }
        const QString what = taken.isEmpty()
                                 ? QString::fromUtf8(acquired->key)
                                 : QStringLiteral("%1 (%2)").arg(QString::fromUtf8(acquired->key), taken);
        result.message = QStringLiteral("acquired %1 as %2: token %3, fence %4, TTL %5 ms")
                             .arg(what, options.label, QString::fromUtf8(acquired->token))
                             .arg(acquired->fence)
                             .arg(acquired->ttl.count());
    } else {
        result.ok = false;
        result.message = QStringLiteral("not acquired: %1").arg(acquired.error().toString());
        if (!result.heldBy.isEmpty())
            result.message += QStringLiteral("; held by %1").arg(result.heldBy);
    }
    if (auditFailed)
        result.message += QStringLiteral("; the audit log %1 could not be written").arg(m_audit->path());
    return result;
}

bool Admin::audit(const QString &node, const QByteArray &key, const QString &action,
                  const QByteArray &valueBefore, qint64 ttlBeforeMs, const QString &result,
                  const AuditEntry &after)
{
    if (!m_audit)
        return true;
    AuditEntry entry = after;
    entry.time = QDateTime::currentDateTimeUtc();
    entry.operatorName = m_operator.name;
    entry.host = m_operator.host;
    entry.group = m_group;
    entry.node = node;
    entry.key = key;
    entry.action = action;
    entry.valueBefore = valueBefore;
    entry.ttlBeforeMs = ttlBeforeMs;
    entry.result = result;
    return m_audit->append(entry);
}

} // namespace lockscope::inspect
