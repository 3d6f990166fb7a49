#pragma once

#include "auditlog.h"
#include "lock/locker.h"
#include "lockrecord.h"
#include "lockschema.h"
#include "redis/nodeconfig.h"

#include <QJsonObject>
#include <QString>
#include <chrono>
#include <optional>
#include <vector>

namespace lockscope::inspect {

/// A node as the admin layer sees it: its connection settings plus the operator's guards.
struct AdminNode
{
    redis::NodeConfig config;
    bool readOnly = false;   ///< no write of any kind is sent to this node (enforced here, in core)
    bool production = false; ///< callers ask for a stronger confirmation (typed key); core records it
};

/// What an admin action did on one node.
enum class AdminOutcome
{
    Done,    ///< written as asked (deleted, extended, acquired)
    Changed, ///< the value differed from the one shown (or another owner holds it): nothing written
    Missing, ///< the key was already gone
    Refused, ///< not sent: a read-only node, a value that cannot be compared, a bad argument
    Error,   ///< the node failed, or is not in the group
};

/// "done", "changed", "missing", "refused", "error": the stable word lockctl prints, in its text
/// and its JSON ("outcome"), and the audit log records.
QString outcomeName(AdminOutcome outcome);

/// What an operator's acquire takes (Admin::acquire); by default a mutex. A plain value.
struct AdminAcquireKind
{
    lock::LockKind kind = lock::LockKind::Mutex;
    /// Semaphore: its number of permits, 1 or more. Part of the semaphore's definition: a key
    /// whose holders name another number refuses the acquire. 0 for every other kind.
    int permits = 0;
    /// Reentrant: the owner id; an acquire with an id that holds the lock adds a hold. Empty: a
    /// new owner id for this call. Empty for every other kind.
    QByteArray owner;

    /// Why this combination cannot be acquired (a semaphore without permits, permits or an owner
    /// id for a kind that takes none); empty when it can. Admin::acquire refuses it before
    /// sending anything; a dialog can say it while the operator types.
    QString refusal() const;
    /// How the audit log and the messages name it: "mutex", "read", "write", "semaphore of 3
    /// permits", "reentrant", "fair".
    QString name() const;
};

/// Per-node outcome of an admin action.
struct AdminNodeResult
{
    QString node;
    AdminOutcome outcome = AdminOutcome::Error;
    QString detail;
};

struct AdminResult
{
    bool ok = false; ///< done on every node it was asked for
    QString message;
    std::vector<AdminNodeResult> nodes;
    /// acquire only, when another owner holds the key: who, as read from the value after the
    /// failed attempt: ownerText() of it and the schema ("“nightly batch” — alice-box pid 12 main
    /// (lockscope)"; a lock of several holders adds their labels: "2 readers: box pid 12 main —
    /// “report”, “export” (lockscope-kinds)"), or the value when no schema reads it; empty when
    /// unknown or not applicable.
    QString heldBy;
};

/// Safe writes for operators. Force-release deletes, on each node, only the exact value the
/// operator saw (compare-and-delete in Lua), bumps the lock's fencing counter so a stale holder
/// is fenced out, and runs the schema's wake-up (Redisson publishes to its channel). Nothing is
/// written to a read-only node. Every attempt is audited.
class Admin
{
public:
    Admin(QString group, std::vector<AdminNode> nodes, Operator who, AuditLog *audit);

    /// Force-release `record` as shown: per node, delete the key only if it still holds the
    /// value (or hash fields) the record shows for that node. `unconditional` deletes whatever
    /// is there (an explicit operator choice).
    AdminResult forceRelease(const LockRecord &record, const SchemaRegistry &registry,
                             bool unconditional = false);
    /// Extends a lock the operator saw: per node, only if the value is unchanged (checked and
    /// written in one Lua script). Replace: the TTL becomes `ttl`; Add: `ttl` is added to the
    /// TTL left at that moment on that node (a key without a TTL gets exactly `ttl`).
    AdminResult extend(const LockRecord &record, std::chrono::milliseconds ttl,
                       lock::ExtendMode mode = lock::ExtendMode::Replace);
    /// Force-releases one holder of a lock of several (a reader, one semaphore permit): per node,
    /// removes only the member the record showed for the holder with `token` (compare-and-remove
    /// in Lua; a holder that changed or left is not touched), and for LockScope's kinds bumps the
    /// fencing counter and lets the key expire with its latest remaining holder. LockScope's
    /// read/write locks and semaphores and redis-semaphore's sets; Refused for the others (a
    /// Redisson permit removed without returning it to the counter would be lost). Audited.
    AdminResult forceReleaseHolder(const LockRecord &record, const QByteArray &token);
    /// Sets one holder's remaining time to `ttl` (its deadline becomes the node's now + ttl), only
    /// where the member is as shown. LockScope's read/write locks and semaphores only (their
    /// scores are deadlines). Audited.
    AdminResult extendHolder(const LockRecord &record, const QByteArray &token,
                             std::chrono::milliseconds ttl);
    /// Whether forceReleaseHolder() (`release`) or extendHolder() can change one holder of a lock
    /// that `schema` decoded; empty when it can, else why not (for a disabled action's tooltip).
    static QString holderActionRefusal(const QString &schema, bool release);
    /// Audits an attempt that stopped before anything was sent (not confirmed, refused by the
    /// caller's own check): one line per node that holds the key, with the value and TTL shown
    /// and `result` ("refused: not confirmed (stdin is not a terminal)", "changed: ..."). The
    /// README's promise: every attempt is audited, refused ones included. False when the log
    /// could not be written.
    bool auditStopped(const LockRecord &record, const QString &action, const QString &result);
    /// Acquires a LockScope lock of `kind` (a mutex by default) on the group as the operator
    /// (label "operator <name>@<host>", then ": note"). With `wait` > 0 the Locker's blocking
    /// acquire retries until the wait has passed; otherwise one attempt. Refused before anything
    /// is sent (outcome Refused on every node, audited) for a group with a read-only node, an
    /// empty key, a TTL that is not positive and a bad kind (AdminAcquireKind::refusal). On
    /// success the message says what was taken ("read lock, 2 readers", "2 of 3 permits taken",
    /// "reentrant, hold count 2"). When the key is held, or is a lock of another kind (a
    /// semaphore asked as a read/write lock, another number of permits, a read/write lock asked
    /// as a mutex), nothing is written (outcome Changed on those nodes) and the result's heldBy
    /// names the holders (read from the value after the attempt); the message says the cause. The audit
    /// action names the kind
    /// ("acquire (read)"; a mutex stays "acquire").
    AdminResult acquire(const QByteArray &key, std::chrono::milliseconds ttl, const QString &note = {},
                        std::chrono::milliseconds wait = std::chrono::milliseconds(0),
                        const AdminAcquireKind &kind = {});

private:
    AdminResult holderAction(const LockRecord &record, const QByteArray &token, const QByteArray &action,
                             std::chrono::milliseconds ttl);
    /// Appends one audit line (when there is a log); false when it could not be written.
    bool audit(const QString &node, const QByteArray &key, const QString &action,
               const QByteArray &valueBefore, qint64 ttlBeforeMs, const QString &result,
               const AuditEntry &after = {});

    QString m_group;
    std::vector<AdminNode> m_nodes;
    Operator m_operator;
    AuditLog *m_audit;
};

} // namespace lockscope::inspect
