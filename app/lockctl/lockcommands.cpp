#include "lockcommands.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"
#include "util/quorum.h"

#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <inspect/keyread.h>
#include <inspect/lockschema.h>
#include <lock/locker.h>
#include <lock/lockerror.h>
#include <lock/lockvalue.h>
#include <optional>
#include <util/displaytext.h>
#include <utility>
#include <vector>

namespace lockctl {

using lockscope::displayText;
using lockscope::displayTextPrefix;
using lockscope::inspect::RawEntry;
using lockscope::lock::AcquireOptions;
using lockscope::lock::ExtendMode;
using lockscope::lock::Lock;
using lockscope::lock::Locker;
using lockscope::lock::LockerOptions;
using lockscope::lock::LockError;
using lockscope::lock::LockErrorKind;
using lockscope::lock::LockKind;
using lockscope::lock::lockKindName;
using lockscope::lock::LockValue;
using lockscope::lock::NodeVote;
using lockscope::redis::NodeConfig;
using lockscope::redis::RedisError;
using std::chrono::milliseconds;

namespace {

const QCommandLineOption TtlOption(QStringLiteral("ttl"),
                                   QStringLiteral("Time to live of the lock, e.g. 30s, 500ms, 2m."),
                                   QStringLiteral("duration"));
const QCommandLineOption
    WaitOption(QStringLiteral("wait"),
               QStringLiteral("Blocking acquire: retry with exponential back-off (8 ms doubling to 256 ms, "
                              "jittered) until obtained or this long has passed. Without it: one try."),
               QStringLiteral("duration"));
const QCommandLineOption AcquireTokenOption(
    QStringLiteral("token"),
    QStringLiteral("Use this token instead of a new random one: acquiring again with the same token "
                   "succeeds and refreshes the TTL (re-acquire, or a handoff to another process)."),
    QStringLiteral("T"));
const QCommandLineOption
    OwnerTokenOption(QStringLiteral("token"),
                     QStringLiteral("The owner's token, as printed by 'lockctl acquire'."),
                     QStringLiteral("T"));
const QCommandLineOption TtlTokenOption(
    QStringLiteral("token"),
    QStringLiteral("Owner-checked: how long a quorum of nodes still holds the lock for this token. "
                   "Without it: every node's PTTL and decoded value."),
    QStringLiteral("T"));
const QCommandLineOption
    LabelOption(QStringLiteral("label"),
                QStringLiteral("Free-text label stored in the value, shown to operators."),
                QStringLiteral("text"));
const QCommandLineOption
    MetaOption(QStringLiteral("meta"),
               QStringLiteral("Caller metadata stored in the value as m.NAME=VALUE; may be "
                              "repeated."),
               QStringLiteral("NAME=VALUE"));
const QCommandLineOption
    NoFencingOption(QStringLiteral("no-fencing"),
                    QStringLiteral("Take the lock with a plain SET NX PX: no fencing counter is incremented "
                                   "and no fence is stored (fence 0 / null)."));
const QCommandLineOption ReadOption(
    QStringLiteral("read"),
    QStringLiteral("Take a reader's share of the read/write lock KEY: shared with other readers, never "
                   "with a writer (a sorted set of holders, each with its own expiry)."));
const QCommandLineOption
    WriteOption(QStringLiteral("write"),
                QStringLiteral("Take the read/write lock KEY as its writer: alone, no readers. With --wait, "
                               "new readers are turned away while it waits (writer preference)."));
const QCommandLineOption SemaphoreOption(
    QStringLiteral("semaphore"),
    QStringLiteral("Take one of N permits of the counting semaphore KEY (each holder with its "
                   "own expiry); every holder must name the same N."),
    QStringLiteral("N"));
const QCommandLineOption ReentrantOption(
    QStringLiteral("reentrant"),
    QStringLiteral("Take KEY as a reentrant lock: the same owner (--owner) may take it again and gets a hold "
                   "count; each release removes one hold."));
const QCommandLineOption
    OwnerOption(QStringLiteral("owner"),
                QStringLiteral("With --reentrant: the owner id (its token); taking the lock "
                               "again with the same id adds a hold."),
                QStringLiteral("ID"));
const QCommandLineOption FairOption(
    QStringLiteral("fair"),
    QStringLiteral("Take KEY as a fair lock: with --wait, queue up and be served in arrival order."));
const QCommandLineOption
    AddOption(QStringLiteral("add"),
              QStringLiteral("Add the duration to the remaining TTL instead of replacing it."));
const QCommandLineOption
    HealOption(QStringLiteral("heal"),
               QStringLiteral("Re-create the key on nodes that lost it (restart without "
                              "persistence); a key another owner holds is never taken."));

QString exitCodesText()
{
    return QStringLiteral(
        "Nodes: --nodes URL[,URL...] (repeatable), else $LOCKSCOPE_NODES; see 'lockctl --help' for URLs.\n"
        "Exit codes: 0 success; 1 error (node down, quorum not reached, validity expired, --wait\n"
        "deadline passed, a node refused: permission, read-only replica, out of memory, wrong type);\n"
        "2 usage error, malformed URL or kind mismatch (nothing taken); 3 held by another owner (a\n"
        "writer, readers, all permits taken); 4 not held by this token (expired, released or taken\n"
        "over).");
}

// --- identifiers for machine output -----------------------------------------------------------

QString kindId(LockErrorKind kind)
{
    switch (kind) {
    case LockErrorKind::NotObtained:
        return QStringLiteral("not_obtained");
    case LockErrorKind::NotHeld:
        return QStringLiteral("not_held");
    case LockErrorKind::ValidityExpired:
        return QStringLiteral("validity_expired");
    case LockErrorKind::QuorumNotReached:
        return QStringLiteral("quorum_not_reached");
    case LockErrorKind::Timeout:
        return QStringLiteral("timeout");
    case LockErrorKind::Cancelled:
        return QStringLiteral("cancelled");
    case LockErrorKind::InvalidArgument:
        return QStringLiteral("invalid_argument");
    case LockErrorKind::ReadOnly:
        return QStringLiteral("read_only");
    case LockErrorKind::Connection:
        return QStringLiteral("connection");
    case LockErrorKind::BreakerOpen:
        return QStringLiteral("breaker_open");
    case LockErrorKind::Permission:
        return QStringLiteral("permission");
    case LockErrorKind::ReadOnlyReplica:
        return QStringLiteral("read_only_replica");
    case LockErrorKind::OutOfMemory:
        return QStringLiteral("out_of_memory");
    case LockErrorKind::WrongType:
        return QStringLiteral("wrong_type");
    case LockErrorKind::WriteLockHeld:
        return QStringLiteral("write_lock_held");
    case LockErrorKind::ReadersTimeout:
        return QStringLiteral("readers_timeout");
    case LockErrorKind::WriteLockTimeout:
        return QStringLiteral("write_lock_timeout");
    case LockErrorKind::KindMismatch:
        return QStringLiteral("kind_mismatch");
    }
    return QStringLiteral("unknown");
}

QString outcomeId(NodeVote::Outcome outcome)
{
    switch (outcome) {
    case NodeVote::Outcome::Granted:
        return QStringLiteral("granted");
    case NodeVote::Outcome::Held:
        return QStringLiteral("held");
    case NodeVote::Outcome::NotHeld:
        return QStringLiteral("not_held");
    case NodeVote::Outcome::Error:
        return QStringLiteral("error");
    case NodeVote::Outcome::Released:
        return QStringLiteral("released");
    }
    return QStringLiteral("unknown");
}

int exitCodeFor(LockErrorKind kind)
{
    switch (kind) {
    case LockErrorKind::NotObtained:
    case LockErrorKind::WriteLockHeld:
        return exitcode::Held;
    case LockErrorKind::NotHeld:
        return exitcode::NotHeld;
    case LockErrorKind::InvalidArgument:
    case LockErrorKind::ReadOnly:
    case LockErrorKind::KindMismatch:
        return exitcode::Usage;
    case LockErrorKind::ValidityExpired:
    case LockErrorKind::QuorumNotReached:
    case LockErrorKind::Timeout:
    case LockErrorKind::Cancelled:
    case LockErrorKind::Connection:
    case LockErrorKind::BreakerOpen: // nodes down: the same as a connection failure
    case LockErrorKind::Permission:
    case LockErrorKind::ReadOnlyReplica:
    case LockErrorKind::OutOfMemory:
    case LockErrorKind::WrongType:
    case LockErrorKind::ReadersTimeout:
    case LockErrorKind::WriteLockTimeout:
        break;
    }
    return exitcode::NodeFailure;
}

// --- shared output ----------------------------------------------------------------------------

QJsonValue orNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonObject voteJson(const NodeVote &vote, bool withFence)
{
    QJsonObject object{
        {QStringLiteral("node"), vote.node},
        {QStringLiteral("outcome"), outcomeId(vote.outcome)},
        {QStringLiteral("pttl_ms"),
         vote.outcome == NodeVote::Outcome::Error ? QJsonValue() : QJsonValue(vote.pttl)},
        {QStringLiteral("error"), vote.error ? QJsonValue(vote.error->toString()) : QJsonValue()},
        {QStringLiteral("error_kind"), vote.error ? QJsonValue(errorKindId(vote.error->kind)) : QJsonValue()},
    };
    if (withFence)
        object.insert(QStringLiteral("fence"),
                      vote.outcome == NodeVote::Outcome::Granted ? QJsonValue(vote.fence) : QJsonValue());
    return object;
}

QJsonArray votesJson(const std::vector<NodeVote> &votes, bool withFence)
{
    QJsonArray array;
    for (const NodeVote &vote : votes)
        array.append(voteJson(vote, withFence));
    return array;
}

/// A multi-key lock's keys (null for a lock on one key).
QJsonValue keysJson(const Lock &lock)
{
    if (lock.keys.size() < 2)
        return QJsonValue();
    QJsonArray array;
    for (const QByteArray &key : lock.keys)
        array.append(QString::fromUtf8(key));
    return array;
}

QJsonValue fencesJson(const Lock &lock)
{
    if (lock.fences.size() < 2)
        return QJsonValue();
    QJsonArray array;
    for (const qint64 fence : lock.fences)
        array.append(fence);
    return array;
}

int grantedCount(const std::vector<NodeVote> &votes)
{
    return static_cast<int>(
        std::ranges::count(votes, NodeVote::Outcome::Granted, [](const NodeVote &v) { return v.outcome; }));
}

/// "name  value" lines with the names padded to the widest.
QString fields(const QList<std::pair<QString, QString>> &rows)
{
    qsizetype width = 0;
    for (const auto &row : rows)
        width = std::max(width, row.first.size());
    QString text;
    for (const auto &[name, value] : rows)
        text += QStringLiteral("%1  %2\n").arg(name.leftJustified(width), value);
    return text;
}

QString msText(qint64 ms)
{
    return QStringLiteral("%1 ms").arg(ms);
}

QString nodesSummary(const std::vector<NodeVote> &votes, int quorum)
{
    return QStringLiteral("%1 of %2 granted (quorum %3)")
        .arg(grantedCount(votes))
        .arg(votes.size())
        .arg(quorum);
}

/// The per-node table, when there is more than one node to show.
void printVotes(const std::vector<NodeVote> &votes, bool withFence, Output &out)
{
    if (votes.size() < 2)
        return;
    QStringList headers{QStringLiteral("NODE"), QStringLiteral("VOTE")};
    if (withFence)
        headers << QStringLiteral("FENCE");
    headers << QStringLiteral("PTTL") << QStringLiteral("ERROR");
    Table table(headers);
    table.setAlignment(2, Table::Align::Right);
    if (withFence)
        table.setAlignment(3, Table::Align::Right);
    for (const NodeVote &vote : votes) {
        const bool granted = vote.outcome == NodeVote::Outcome::Granted;
        const bool answered = vote.outcome != NodeVote::Outcome::Error;
        QStringList row{displayText(vote.node), NodeVote::outcomeName(vote.outcome)};
        if (withFence)
            row << (granted ? QString::number(vote.fence) : QStringLiteral("-"));
        row << (answered && vote.pttl >= 0 ? msText(vote.pttl) : QStringLiteral("-"))
            << (vote.error ? RedisError::kindName(vote.error->kind) + QStringLiteral(": ") +
                                 displayText(vote.error->message)
                           : QStringLiteral("-"));
        table.addRow(row);
    }
    out.line();
    out.write(table.render());
}

/// Prints a lock error (one line on stderr; in JSON mode also an object on stdout) and returns
/// its exit code.
int reportError(const LockError &error, bool json, Output &out)
{
    if (json) {
        out.json(QJsonObject{
            {QStringLiteral("error"), error.toString()},
            {QStringLiteral("kind"), kindId(error.kind)},
            {QStringLiteral("key"), error.key},
            {QStringLiteral("message"), error.message},
            {QStringLiteral("attempts"), error.attempts},
            {QStringLiteral("last_cause"),
             error.lastCause ? QJsonValue(kindId(*error.lastCause)) : QJsonValue()},
            {QStringLiteral("votes"), votesJson(error.votes, true)},
        });
    }
    out.error(error.toString());
    return exitCodeFor(error.kind);
}

// --- reading the key itself (ttl without a token, extend --heal) ------------------------------

struct KeyState
{
    QString node;
    std::optional<RedisError> error;
    bool exists = false;
    qint64 pttl = -2;   ///< -1: no TTL, -2: no key
    QByteArray value;   ///< raw value (GET)
    QString valueError; ///< GET failed on an existing key (not a string, ...)
    QString otherType;  ///< the key holds this type instead of a string ("list", "hash", ...)
    std::optional<LockValue> decoded;
    std::optional<qint64> fenceCounter;
    /// A read/write lock's or a semaphore's holders (the key is a sorted set of LockScope values
    /// scored by their deadlines): each value with its own remaining ms (-1: no deadline).
    std::vector<std::pair<LockValue, qint64>> holders;
    QString kind; ///< "read", "write" or "semaphore" for such a key; empty otherwise
};

/// Takes a sorted set as a LockScope read/write lock or semaphore when the inspector's decoder
/// of LockScope's kinds reads it as one (the same reading as `lockctl show` and the app): every
/// live holder's value with its remaining ms (expired members, which the next write prunes, left
/// out). False for any other sorted set: it is not a lock of ours.
bool takeHolders(const QByteArray &key, const RawEntry &raw, KeyState &state)
{
    namespace lockKind = lockscope::inspect::lockKind;
    static const std::shared_ptr<const lockscope::inspect::LockSchema> kinds =
        lockscope::inspect::SchemaRegistry::builtins().find(QStringLiteral("lockscope-kinds"));
    const std::optional<lockscope::inspect::DecodedLock> lock =
        kinds ? kinds->decode(key, raw) : std::nullopt;
    if (!lock ||
        (lock->kind != QLatin1String(lockKind::Read) && lock->kind != QLatin1String(lockKind::Write) &&
         lock->kind != QLatin1String(lockKind::Semaphore)))
        return false;
    state.holders.clear();
    for (const lockscope::inspect::LockHolder &holder : lock->holders) {
        if (holder.pttlMs == 0)
            continue; // its deadline passed
        if (std::optional<LockValue> value = LockValue::parse(holder.raw))
            state.holders.emplace_back(std::move(*value), holder.pttlMs);
    }
    state.kind = lock->kind;
    state.exists = !state.holders.empty();
    if (!state.exists)
        state.pttl = -2;
    return true;
}

/// Who a LockScope value names, for a table cell: "host pid N thread", bounded and escaped.
QString ownerCell(const LockValue &value)
{
    return displayTextPrefix(
        QStringLiteral("%1 pid %2 %3").arg(value.host).arg(value.pid).arg(value.thread).trimmed().toUtf8(),
        MaxCellChars);
}

/// What every node holds under the key, with its fence counter: core's readKeyOnNodes (one
/// pipeline per node, every node at once), seen as a LockScope lock.
std::vector<KeyState> readKeyStates(const std::vector<NodeConfig> &nodes, const QByteArray &key)
{
    std::vector<KeyState> states;
    for (lockscope::inspect::KeyRead &read :
         lockscope::inspect::readKeyOnNodes(nodes, key, {.fenceCounter = true})) {
        KeyState state;
        state.node = read.node;
        state.error = read.error;
        state.exists = read.exists();
        state.pttl = read.exists() ? read.raw.pttlMs : -2;
        state.fenceCounter = read.fenceCounter;
        state.valueError = read.valueError;
        if (read.raw.type == RawEntry::Type::String) {
            state.value = std::move(read.raw.value);
            state.decoded = LockValue::parse(state.value);
        } else if (read.raw.isSortedSet() && read.valueError.isEmpty() && takeHolders(key, read.raw, state)) {
            // A LockScope read/write lock or semaphore: a lock, with several holders.
        } else if (read.raw.type != RawEntry::Type::Missing && read.valueError.isEmpty()) {
            state.otherType = read.raw.typeName;
            state.valueError = QStringLiteral("the key holds a %1, not a lock").arg(state.otherType);
        }
        states.push_back(std::move(state));
    }
    return states;
}

QJsonObject ownerJson(const LockValue &value)
{
    QJsonObject metadata;
    for (auto it = value.metadata.cbegin(); it != value.metadata.cend(); ++it)
        metadata.insert(it.key(), it.value());
    return QJsonObject{
        {QStringLiteral("token"), QString::fromUtf8(value.token)},
        {QStringLiteral("fence"), value.fence},
        {QStringLiteral("host"), orNull(value.host)},
        {QStringLiteral("pid"), value.pid},
        {QStringLiteral("thread"), orNull(value.thread)},
        {QStringLiteral("acquired_at"), value.acquiredAt.isValid()
                                            ? QJsonValue(value.acquiredAt.toString(Qt::ISODateWithMs))
                                            : QJsonValue()},
        {QStringLiteral("label"), orNull(value.label)},
        {QStringLiteral("metadata"), metadata},
    };
}

// --- argument handling shared by the four commands --------------------------------------------

LockerOptions lockerOptions(bool fencing = true)
{
    LockerOptions options;
    options.poolSize = 1; // one thread, one operation at a time
    options.fencing = fencing;
    return options;
}

/// Parses the arguments, the KEY and the nodes (nothing is contacted). Returns the exit code to
/// stop with, or nullopt to go on.
std::optional<int> prepare(QCommandLineParser &parser, const Invocation &invocation,
                           const QList<QCommandLineOption> &options, const QString &command,
                           const QString &help, std::vector<QByteArray> &keys, std::vector<NodeConfig> &nodes,
                           const QString &writes = {}, bool several = false)
{
    Output &out = invocation.out;
    if (auto stop = parseArguments(parser, invocation.args, options, command, help, out))
        return stop;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty() || (!several && positional.size() != 1)) {
        out.error(several
                      ? QStringLiteral("%1: expected one or more KEYs (see 'lockctl help %1')").arg(command)
                      : QStringLiteral("%1: expected exactly one KEY (see 'lockctl help %1')").arg(command));
        return exitcode::Usage;
    }
    for (const QString &argument : positional) {
        if (argument.isEmpty()) {
            out.error(QStringLiteral("%1: a KEY must not be empty").arg(command));
            return exitcode::Usage;
        }
        const auto parsedKey = keyArgument(argument, command, QStringLiteral("KEY"), out);
        if (!parsedKey)
            return exitcode::Usage;
        keys.push_back(*parsedKey);
    }
    auto resolved = resolveNodes(parser, command, out);
    if (!resolved || !applyTimeoutOption(parser, *resolved, command, out))
        return exitcode::Usage;
    nodes = std::move(*resolved);
    if (!writes.isEmpty() && !productionConfirmed(parser, nodes, command, writes, out))
        return exitcode::Usage;
    return std::nullopt;
}

/// The --token value; prints an error when it is required and missing or empty.
std::optional<QByteArray> tokenValue(const QCommandLineParser &parser, const QString &command, bool required,
                                     Output &out, bool &ok)
{
    if (!parser.isSet(QStringLiteral("token"))) {
        if (required) {
            out.error(
                QStringLiteral("%1: --token is required (the token 'lockctl acquire' printed)").arg(command));
            ok = false;
        }
        return std::nullopt;
    }
    const QString token = parser.value(QStringLiteral("token"));
    if (token.isEmpty()) {
        out.error(QStringLiteral("%1: --token must not be empty").arg(command));
        ok = false;
        return std::nullopt;
    }
    return token.toUtf8();
}

bool isJson(const QCommandLineParser &parser)
{
    return parser.isSet(QStringLiteral("json"));
}

// --- acquire ----------------------------------------------------------------------------------

QList<QCommandLineOption> acquireOptions()
{
    return {nodesOption(),
            groupOption(),
            TtlOption,
            WaitOption,
            AcquireTokenOption,
            LabelOption,
            MetaOption,
            NoFencingOption,
            ReadOption,
            WriteOption,
            SemaphoreOption,
            ReentrantOption,
            OwnerOption,
            FairOption,
            jsonOption(),
            timeoutOption(),
            confirmProductionOption(),
            helpOption()};
}

QString acquireHelp()
{
    return formatHelp(
        QStringLiteral("lockctl acquire KEY [KEY...] --ttl D [--read | --write | --semaphore N | --reentrant "
                       "[--owner ID] | "
                       "--fair] [--nodes URL,...] [--wait D] [--token T] [--label L] [--json]"),
        QStringLiteral(
            "Takes the lock KEY for D and prints its token (needed to extend and release it),\n"
            "its fencing value and how long it is valid. On several nodes it is a Redlock: the\n"
            "lock needs a quorum of N/2+1 nodes and a positive validity (TTL - elapsed - drift),\n"
            "and whatever a failed attempt took is released again. Without --read, --write or\n"
            "--semaphore it is a mutex; extend, release and ttl work on every kind with the token."),
        acquireOptions(),
        exitCodesText() +
            QStringLiteral("\nExample: lockctl acquire jobs:nightly --ttl 30s --nodes redis://10.0.0.5:6379 "
                           "--label 'nightly report'"));
}

int runAcquire(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("acquire");
    QCommandLineParser parser;
    std::vector<QByteArray> keys;
    std::vector<NodeConfig> nodes;
    if (auto stop = prepare(parser, invocation, acquireOptions(), command, acquireHelp(), keys, nodes,
                            QStringLiteral("taking a lock"), true))
        return *stop;
    bool ok = true;
    const auto ttl = durationValue(parser, TtlOption, command, out, ok);
    const auto wait = durationValue(parser, WaitOption, command, out, ok);
    const auto token = tokenValue(parser, command, false, out, ok);
    AcquireOptions options;
    for (const QString &entry : parser.values(MetaOption)) {
        const qsizetype eq = entry.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            out.error(QStringLiteral("%1: invalid --meta '%2' (expected NAME=VALUE)").arg(command, entry));
            ok = false;
            continue;
        }
        options.metadata.insert(entry.left(eq), entry.mid(eq + 1));
    }
    if (ok && !ttl) {
        out.error(QStringLiteral("%1: --ttl is required (e.g. --ttl 30s)").arg(command));
        ok = false;
    }
    const int kinds = int(parser.isSet(ReadOption)) + int(parser.isSet(WriteOption)) +
                      int(parser.isSet(SemaphoreOption)) + int(parser.isSet(ReentrantOption)) +
                      int(parser.isSet(FairOption));
    if (ok && kinds > 1) {
        out.error(
            QStringLiteral("%1: --read, --write, --semaphore, --reentrant and --fair exclude each other")
                .arg(command));
        ok = false;
    }
    if (ok && kinds > 0 && keys.size() > 1) {
        out.error(QStringLiteral("%1: several KEYs make a multi-key mutex; --read, --write, --semaphore, "
                                 "--reentrant and --fair take one KEY")
                      .arg(command));
        ok = false;
    }
    if (ok && parser.isSet(OwnerOption) &&
        (!parser.isSet(ReentrantOption) || parser.isSet(AcquireTokenOption))) {
        out.error(QStringLiteral("%1: --owner goes with --reentrant (and instead of --token)").arg(command));
        ok = false;
    }
    if (ok && parser.isSet(OwnerOption) && parser.value(OwnerOption).isEmpty()) {
        out.error(QStringLiteral("%1: --owner must not be empty").arg(command));
        ok = false;
    }
    if (ok && parser.isSet(SemaphoreOption)) {
        bool number = false;
        options.permits = parser.value(SemaphoreOption).toInt(&number);
        options.kind = LockKind::Semaphore;
        if (!number || options.permits < 1) {
            out.error(QStringLiteral("%1: --semaphore needs a positive number of permits, not '%2'")
                          .arg(command, parser.value(SemaphoreOption)));
            ok = false;
        }
    }
    if (!ok)
        return exitcode::Usage;
    if (parser.isSet(ReadOption))
        options.kind = LockKind::Read;
    else if (parser.isSet(WriteOption))
        options.kind = LockKind::Write;
    else if (parser.isSet(ReentrantOption))
        options.kind = LockKind::Reentrant;
    else if (parser.isSet(FairOption))
        options.kind = LockKind::Fair;
    options.ttl = *ttl;
    options.token =
        parser.isSet(OwnerOption) ? parser.value(OwnerOption).toUtf8() : token.value_or(QByteArray());
    options.label = parser.value(LabelOption);
    options.thread = QStringLiteral("lockctl");

    const bool fencing = !parser.isSet(NoFencingOption);
    Locker locker(std::move(nodes), lockerOptions(fencing));
    auto result = [&] {
        if (!wait)
            return locker.tryAcquire(keys, options);
        options.wait = *wait;
        return locker.acquire(keys, options);
    }();
    const bool json = isJson(parser);
    if (!result)
        return reportError(result.error(), json, out);

    const Lock &lock = *result;
    const qint64 validity = lock.validityLeft(locker.options().clock->now()).count();
    if (json) {
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(lock.key)},
                {QStringLiteral("kind"), lockKindName(lock.kind)},
                {QStringLiteral("keys"), keysJson(lock)},
                {QStringLiteral("fences"), fencesJson(lock)},
                {QStringLiteral("permits"), lock.permits > 0 ? QJsonValue(lock.permits) : QJsonValue()},
                {QStringLiteral("holds"), lock.holds > 0 ? QJsonValue(lock.holds) : QJsonValue()},
                {QStringLiteral("token"), QString::fromUtf8(lock.token)},
                {QStringLiteral("fence"), fencing ? QJsonValue(lock.fence) : QJsonValue()},
                {QStringLiteral("fencing"), fencing},
                {QStringLiteral("ttl_ms"), qint64(lock.ttl.count())},
                {QStringLiteral("validity_ms"), validity},
                {QStringLiteral("value"), QString::fromUtf8(lock.value)},
                {QStringLiteral("quorum"), locker.quorumFor(lock.kind, lock.permits)},
                {QStringLiteral("nodes"), votesJson(lock.votes, true)},
            },
            QStringLiteral("key"), lock.key));
        return exitcode::Ok;
    }
    QString kind = lockKindName(lock.kind);
    if (lock.kind == LockKind::Semaphore)
        kind += QStringLiteral(" (%1 permits)").arg(lock.permits);
    if (lock.kind == LockKind::Reentrant)
        kind += QStringLiteral(" (held %1 time%2)").arg(lock.holds).arg(lock.holds == 1 ? "" : "s");
    if (lock.keys.size() > 1) {
        QStringList shown;
        for (size_t j = 0; j < lock.keys.size(); ++j)
            shown << QStringLiteral("%1 (fence %2)").arg(displayText(lock.keys[j])).arg(lock.fences[j]);
        kind += QStringLiteral(", %1 keys: %2").arg(lock.keys.size()).arg(shown.join(QStringLiteral(", ")));
    }
    out.write(fields({
        {QStringLiteral("key"), displayText(lock.key)},
        {QStringLiteral("kind"), kind},
        {QStringLiteral("token"), displayText(lock.token)},
        {QStringLiteral("fence"), fencing ? QString::number(lock.fence) : QStringLiteral("- (fencing off)")},
        {QStringLiteral("ttl"), msText(lock.ttl.count())},
        {QStringLiteral("validity"), msText(validity)},
        {QStringLiteral("nodes"), nodesSummary(lock.votes, locker.quorumFor(lock.kind, lock.permits))},
    }));
    printVotes(lock.votes, fencing, out);
    return exitcode::Ok;
}

// --- extend -----------------------------------------------------------------------------------

QList<QCommandLineOption> extendOptions()
{
    return {nodesOption(), groupOption(),   OwnerTokenOption,          TtlOption,   AddOption, HealOption,
            jsonOption(),  timeoutOption(), confirmProductionOption(), helpOption()};
}

QString extendHelp()
{
    return formatHelp(
        QStringLiteral(
            "lockctl extend KEY [KEY...] --token T --ttl D [--add] [--heal] [--nodes URL,...] [--json]"),
        QStringLiteral("Owner-checked TTL change on every node, in one Lua script per node: the TTL\n"
                       "becomes D (or D is added to what is left, with --add) where the key still\n"
                       "holds token T. Needs a quorum of nodes still holding it; nothing changes\n"
                       "where another owner holds the key."),
        extendOptions(), exitCodesText());
}

int runExtend(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("extend");
    QCommandLineParser parser;
    std::vector<QByteArray> keys;
    std::vector<NodeConfig> nodes;
    if (auto stop = prepare(parser, invocation, extendOptions(), command, extendHelp(), keys, nodes,
                            QStringLiteral("extending a lock"), true))
        return *stop;
    bool ok = true;
    const auto token = tokenValue(parser, command, true, out, ok);
    const auto ttl = durationValue(parser, TtlOption, command, out, ok);
    if (ok && !ttl) {
        out.error(QStringLiteral("%1: --ttl is required (e.g. --ttl 30s)").arg(command));
        ok = false;
    }
    if (!ok)
        return exitcode::Usage;
    const ExtendMode mode = parser.isSet(AddOption) ? ExtendMode::Add : ExtendMode::Replace;
    const bool heal = parser.isSet(HealOption);

    Locker locker(std::move(nodes), lockerOptions());
    // Locker::extend recovers the owner's full value for healing from a node that still has it.
    auto result = locker.extend(locker.handleFor(keys, *token), *ttl, mode, heal);
    const bool json = isJson(parser);
    if (!result)
        return reportError(result.error(), json, out);

    const Lock &extended = *result;
    const qint64 validity = extended.validityLeft(locker.options().clock->now()).count();
    const QString modeName = mode == ExtendMode::Add ? QStringLiteral("add") : QStringLiteral("replace");
    if (json) {
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(extended.key)},
                {QStringLiteral("token"), QString::fromUtf8(extended.token)},
                {QStringLiteral("mode"), modeName},
                {QStringLiteral("ttl_ms"), qint64(extended.ttl.count())},
                {QStringLiteral("validity_ms"), validity},
                {QStringLiteral("quorum"), locker.quorum()},
                {QStringLiteral("nodes"), votesJson(extended.votes, false)},
            },
            QStringLiteral("key"), extended.key));
        return exitcode::Ok;
    }
    out.write(fields({
        {QStringLiteral("key"), displayText(extended.key)},
        {QStringLiteral("ttl"), msText(extended.ttl.count())},
        {QStringLiteral("validity"), msText(validity)},
        {QStringLiteral("nodes"), nodesSummary(extended.votes, locker.quorum())},
    }));
    printVotes(extended.votes, false, out);
    return exitcode::Ok;
}

// --- release ----------------------------------------------------------------------------------

QList<QCommandLineOption> releaseOptions()
{
    return {nodesOption(), groupOption(),   OwnerTokenOption,
            jsonOption(),  timeoutOption(), confirmProductionOption(),
            helpOption()};
}

QString releaseHelp()
{
    return formatHelp(
        QStringLiteral("lockctl release KEY [KEY...] --token T [--nodes URL,...] [--json]"),
        QStringLiteral("Owner-checked delete on every node (compare-and-delete in Lua): the key goes\n"
                       "where it still holds token T; another owner's key is never touched."),
        releaseOptions(), exitCodesText());
}

int runRelease(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("release");
    QCommandLineParser parser;
    std::vector<QByteArray> keys;
    std::vector<NodeConfig> nodes;
    if (auto stop = prepare(parser, invocation, releaseOptions(), command, releaseHelp(), keys, nodes,
                            QStringLiteral("releasing a lock"), true))
        return *stop;
    bool ok = true;
    const auto token = tokenValue(parser, command, true, out, ok);
    if (!ok)
        return exitcode::Usage;

    Locker locker(std::move(nodes), lockerOptions());
    const Lock lock = locker.handleFor(keys, *token);
    auto result = locker.release(lock);
    const bool json = isJson(parser);
    if (!result)
        return reportError(result.error(), json, out);
    if (json) {
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(lock.key)},
                {QStringLiteral("token"), QString::fromUtf8(lock.token)},
                {QStringLiteral("released"), true},
                {QStringLiteral("quorum"), locker.quorum()},
            },
            QStringLiteral("key"), lock.key));
        return exitcode::Ok;
    }
    out.line(QStringLiteral("released %1").arg(displayText(lock.key)));
    return exitcode::Ok;
}

// --- ttl --------------------------------------------------------------------------------------

QList<QCommandLineOption> ttlOptions()
{
    return {nodesOption(), groupOption(), TtlTokenOption, jsonOption(), timeoutOption(), helpOption()};
}

QString ttlHelp()
{
    return formatHelp(
        QStringLiteral("lockctl ttl KEY [KEY...] [--token T] [--nodes URL,...] [--json]"),
        QStringLiteral(
            "With --token: the owner-checked remaining TTL, i.e. how long a quorum of nodes\n"
            "still holds KEY for token T (exit 4 when it does not).\n"
            "Without: every node's PTTL and value, decoded when it is a LockScope value\n"
            "(token, fence, host, pid, thread, acquired-at, label); exit 0 when a quorum of\n"
            "nodes has the key, 4 when it has not, 1 when a node failed and it cannot tell.\n"
            "A key of another type (a list, a hash, ...) is not a lock: the node's row says\n"
            "\"the key holds a list, not a lock\" and does not count (exit 4 when no quorum is left)."),
        ttlOptions(), exitCodesText());
}

QString ttlCell(const KeyState &state)
{
    if (state.error)
        return QStringLiteral("error");
    if (!state.exists)
        return QStringLiteral("-");
    if (state.pttl == -1)
        return QStringLiteral("no TTL");
    return msText(state.pttl);
}

/// A read/write lock's or semaphore's holders for --json: each owner with its own pttl_ms.
QJsonValue holdersJson(const KeyState &state)
{
    if (state.kind.isEmpty())
        return {};
    QJsonArray holders;
    for (const auto &[value, left] : state.holders) {
        QJsonObject holder = ownerJson(value);
        holder.insert(QStringLiteral("pttl_ms"), left);
        holder.insert(QStringLiteral("mode"),
                      value.permits > 0 ? QJsonValue() : QJsonValue(QString(QChar::fromLatin1(value.mode))));
        holders.append(holder);
    }
    return holders;
}

/// The TOKEN cell of such a lock: "3 readers (first TOKEN)", "1 of 3 permits TOKEN".
QString holdersCell(const KeyState &state)
{
    if (state.holders.empty())
        return QStringLiteral("-");
    const qsizetype n = qsizetype(state.holders.size());
    const LockValue &first = state.holders.front().first;
    QString what;
    if (state.kind == QLatin1String("semaphore"))
        what = QStringLiteral("%1 of %2 permits").arg(n).arg(first.permits);
    else if (state.kind == QLatin1String("write"))
        what = QStringLiteral("writer");
    else
        what = n == 1 ? QStringLiteral("1 reader") : QStringLiteral("%1 readers").arg(n);
    return n == 1 ? QStringLiteral("%1 %2").arg(what, displayTextPrefix(first.token, MaxKeyChars))
                  : QStringLiteral("%1 (first %2)").arg(what, displayTextPrefix(first.token, MaxKeyChars));
}

int runTtlOfKey(const QByteArray &key, const std::vector<NodeConfig> &nodes, bool json, Output &out)
{
    const std::vector<KeyState> states = readKeyStates(nodes, key);
    const int quorum = lockscope::quorumOf(static_cast<int>(nodes.size()));
    // A key of another type (a list, a hash, ...) is there, but it is not a lock.
    const auto present = std::ranges::count_if(
        states, [](const KeyState &s) { return !s.error && s.exists && s.otherType.isEmpty(); });
    // A node that answered MOVED / ASK (a cluster node that does not serve the key) is not a
    // failure: as for a key no node holds, exit 4, with the redirect on stderr.
    const auto failed = std::ranges::count_if(states, [](const KeyState &s) {
        return s.error.has_value() && s.error->kind != lockscope::redis::ErrorKind::ClusterRedirect;
    });
    const bool held = present >= quorum;

    if (json) {
        QJsonArray array;
        for (const KeyState &state : states) {
            const bool answered = !state.error;
            array.append(QJsonObject{
                {QStringLiteral("node"), state.node},
                {QStringLiteral("exists"), answered ? QJsonValue(state.exists) : QJsonValue()},
                {QStringLiteral("pttl_ms"), answered && state.exists ? QJsonValue(state.pttl) : QJsonValue()},
                {QStringLiteral("value"), answered && state.exists && state.valueError.isEmpty()
                                              ? QJsonValue(QString::fromUtf8(state.value))
                                              : QJsonValue()},
                {QStringLiteral("value_error"), orNull(state.valueError)},
                {QStringLiteral("type"), orNull(state.otherType)},
                {QStringLiteral("lockscope"), state.decoded.has_value() || !state.kind.isEmpty()},
                {QStringLiteral("owner"),
                 state.decoded ? QJsonValue(ownerJson(*state.decoded)) : QJsonValue()},
                {QStringLiteral("fence_counter"),
                 state.fenceCounter ? QJsonValue(*state.fenceCounter) : QJsonValue()},
                {QStringLiteral("kind"), orNull(state.kind)},
                {QStringLiteral("holders"), holdersJson(state)},
                {QStringLiteral("error"), state.error ? QJsonValue(state.error->toString()) : QJsonValue()},
                {QStringLiteral("error_kind"),
                 state.error ? QJsonValue(errorKindId(state.error->kind)) : QJsonValue()},
            });
        }
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(key)},
                {QStringLiteral("fence_key"), QString::fromUtf8(lockscope::lock::fenceKeyFor(key))},
                {QStringLiteral("held"), held},
                {QStringLiteral("quorum"), quorum},
                {QStringLiteral("nodes"), array},
            },
            QStringLiteral("key"), key));
    } else {
        Table table({QStringLiteral("NODE"), QStringLiteral("PTTL"), QStringLiteral("FENCE"),
                     QStringLiteral("TOKEN"), QStringLiteral("OWNER"), QStringLiteral("LABEL"),
                     QStringLiteral("ACQUIRED")});
        table.setAlignment(1, Table::Align::Right);
        table.setAlignment(2, Table::Align::Right);
        for (const KeyState &state : states) {
            QStringList row{displayText(state.node), ttlCell(state)};
            if (state.decoded) {
                const LockValue &v = *state.decoded;
                // The start of each (a value may carry megabytes; --json prints it all).
                row << QString::number(v.fence) << displayTextPrefix(v.token, MaxKeyChars) << ownerCell(v)
                    << (v.label.isEmpty() ? QStringLiteral("-")
                                          : displayTextPrefix(v.label.toUtf8(), MaxCellChars))
                    << (v.acquiredAt.isValid() ? v.acquiredAt.toString(Qt::ISODateWithMs)
                                               : QStringLiteral("-"));
            } else if (!state.kind.isEmpty()) {
                row << QStringLiteral("-") << holdersCell(state)
                    << (state.holders.empty() ? QStringLiteral("(no holder left: every entry expired)")
                                              : ownerCell(state.holders.front().first))
                    << QStringLiteral("-") << QStringLiteral("-");
            } else if (!state.otherType.isEmpty()) {
                row << QStringLiteral("-") << QStringLiteral("-") << state.valueError << QStringLiteral("-")
                    << QStringLiteral("-");
            } else if (state.error || !state.exists) {
                row << QStringLiteral("-") << QStringLiteral("-")
                    << (state.error ? QStringLiteral("-") : QStringLiteral("(no key)")) << QStringLiteral("-")
                    << QStringLiteral("-");
            } else {
                // Cut before escaping, so that "..." never splits an escape.
                const QByteArray bytes = state.valueError.isEmpty() ? state.value : state.valueError.toUtf8();
                QString raw = displayText(bytes.size() > 60 ? bytes.left(57) : bytes);
                if (bytes.size() > 60)
                    raw += QStringLiteral("...");
                row << QStringLiteral("-") << QStringLiteral("-") << QStringLiteral("foreign: %1").arg(raw)
                    << QStringLiteral("-") << QStringLiteral("-");
            }
            table.addRow(row);
        }
        out.write(table.render());
    }
    for (const KeyState &state : states) {
        if (state.error)
            out.error(state.error->toString());
        else if (!state.otherType.isEmpty())
            out.error(QStringLiteral("%1: %2").arg(displayText(state.node), state.valueError));
    }
    if (held)
        return exitcode::Ok;
    return failed > 0 ? exitcode::NodeFailure : exitcode::NotHeld;
}

int runTtl(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("ttl");
    QCommandLineParser parser;
    std::vector<QByteArray> keys;
    std::vector<NodeConfig> nodes;
    if (auto stop = prepare(parser, invocation, ttlOptions(), command, ttlHelp(), keys, nodes, {}, true))
        return *stop;
    bool ok = true;
    const auto token = tokenValue(parser, command, false, out, ok);
    if (ok && !token && keys.size() > 1) {
        out.error(QStringLiteral("%1: several KEYs need --token (a multi-key lock's remaining validity)")
                      .arg(command));
        ok = false;
    }
    if (!ok)
        return exitcode::Usage;
    const bool json = isJson(parser);
    if (!token)
        return runTtlOfKey(keys.front(), nodes, json, out);

    Locker locker(std::move(nodes), lockerOptions());
    const Lock lock = locker.handleFor(keys, *token);
    auto result = locker.ttl(lock);
    if (!result)
        return reportError(result.error(), json, out);
    if (json) {
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(lock.key)},
                {QStringLiteral("token"), QString::fromUtf8(lock.token)},
                {QStringLiteral("ttl_ms"), qint64(result->count())},
                {QStringLiteral("quorum"), locker.quorum()},
            },
            QStringLiteral("key"), lock.key));
        return exitcode::Ok;
    }
    out.write(fields({
        {QStringLiteral("key"), displayText(lock.key)},
        {QStringLiteral("ttl"), msText(result->count())},
    }));
    return exitcode::Ok;
}

} // namespace

Command acquireCommand()
{
    return Command{
        .name = QStringLiteral("acquire"),
        .summary = QStringLiteral("Take a lock; prints its token and fencing value"),
        .help = acquireHelp(),
        .run = runAcquire,
    };
}

Command extendCommand()
{
    return Command{
        .name = QStringLiteral("extend"),
        .summary = QStringLiteral("Extend a lock you hold (replace or --add to its TTL)"),
        .help = extendHelp(),
        .run = runExtend,
    };
}

Command releaseCommand()
{
    return Command{
        .name = QStringLiteral("release"),
        .summary = QStringLiteral("Release a lock you hold (owner-checked)"),
        .help = releaseHelp(),
        .run = runRelease,
    };
}

Command ttlCommand()
{
    return Command{
        .name = QStringLiteral("ttl"),
        .summary = QStringLiteral("Remaining TTL of a lock, or every node's PTTL and decoded owner"),
        .help = ttlHelp(),
        .run = runTtl,
    };
}

} // namespace lockctl
