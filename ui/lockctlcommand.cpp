#include "lockctlcommand.h"

#include "util/duration.h"

#include <QRegularExpression>
#include <algorithm>

using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::RawEntry;

namespace {

/// What every command shares: the program, the node arguments and the notes they bring.
struct Builder
{
    QStringList prefix; ///< environment assignments, already quoted
    QStringList words;  ///< unquoted arguments
    QStringList tail;   ///< after "--" (a key that starts with '-')
    LockctlCommand result;

    LockctlCommand finish()
    {
        if (!result.error.isEmpty())
            return result;
        QStringList quoted = prefix;
        for (const QString &word : std::as_const(words))
            quoted << shellQuote(word);
        if (!tail.isEmpty()) {
            quoted << QStringLiteral("--");
            for (const QString &word : std::as_const(tail))
                quoted << shellQuote(word);
        }
        result.text = quoted.join(QLatin1Char(' '));
        return result;
    }
};

bool validUtf8(const QByteArray &bytes)
{
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

/// Starts `program command`, with the key right after it, or after "--" at the end when it
/// looks like an option. False (with the error set) when the key cannot be typed.
bool start(Builder &builder, const LockctlTarget &target, const QString &command, const QByteArray *key)
{
    if (target.saved && !target.configPath.isEmpty())
        builder.prefix << QStringLiteral("LOCKSCOPE_CONFIG=") + shellQuote(target.configPath);
    builder.words << target.program << command;
    if (key) {
        if (key->isEmpty()) {
            builder.result.error = QStringLiteral("no key");
            return false;
        }
        if (!validUtf8(*key) || key->contains('\0')) {
            builder.result.error = QStringLiteral("the key is not valid UTF-8 text: a shell command cannot "
                                                  "name it exactly");
            return false;
        }
        const QString text = QString::fromUtf8(*key);
        if (text.startsWith(QLatin1Char('-')))
            builder.tail << text;
        else
            builder.words << text;
    }
    return true;
}

/// --group NAME, or --nodes URL,... without passwords (with a note saying so).
bool addNodes(Builder &builder, const LockctlTarget &target)
{
    const auto &nodes = target.group.nodes;
    if (nodes.empty()) {
        builder.result.error = QStringLiteral("the group %1 has no nodes").arg(target.group.name);
        return false;
    }
    QStringList withPassword;
    for (const auto &node : nodes)
        if (!node.config.password.isEmpty())
            withPassword << node.config.label();
    if (target.saved) {
        builder.words << QStringLiteral("--group") << target.group.name;
        if (!withPassword.isEmpty())
            builder.result.notes << QStringLiteral("lockctl reads the group from the groups file, which "
                                                   "holds no passwords: %1 will refuse it without one.")
                                        .arg(withPassword.join(QStringLiteral(", ")));
        return true;
    }
    QStringList urls;
    for (const auto &node : nodes) {
        auto config = node.config;
        config.password.clear();
        const QString url = config.toUrl();
        if (url.contains(QLatin1Char(','))) {
            builder.result.error =
                QStringLiteral("the URL of node %1 contains a comma, which --nodes cannot carry; save the "
                               "group and use --group")
                    .arg(node.config.label());
            return false;
        }
        urls << url;
    }
    builder.words << QStringLiteral("--nodes") << urls.join(QLatin1Char(','));
    if (!withPassword.isEmpty())
        builder.result.notes << QStringLiteral("Passwords are left out: add them to the URL of %1 "
                                               "(redis://user:PASSWORD@host:port) before running it.")
                                    .arg(withPassword.join(QStringLiteral(", ")));
    return true;
}

/// lockctl acquire and extend refuse read-only nodes of a saved group (--group), but given
/// --nodes they know nothing of the marks: no such command is offered for a group that has one.
bool refuseReadOnly(Builder &builder, const LockctlTarget &target, const QString &command)
{
    QStringList readOnly;
    for (const auto &node : target.group.nodes)
        if (node.readOnly)
            readOnly << node.config.label();
    if (readOnly.isEmpty())
        return false;
    builder.result.error = QStringLiteral("lockctl %1 would write to the read-only node%2 %3 (it does not "
                                          "honour read-only marks)")
                               .arg(command, readOnly.size() == 1 ? QString() : QStringLiteral("s"),
                                    readOnly.join(QStringLiteral(", ")));
    return true;
}

/// A holder's token a command must name as one shell word: none picked, or bytes that are not
/// text, give the builder an error instead (true).
bool refuseHolderToken(Builder &builder, const QByteArray &token)
{
    if (!token.isEmpty() && validUtf8(token) && !token.contains('\0'))
        return false;
    builder.result.error = token.isEmpty()
                               ? QStringLiteral("no holder picked")
                               : QStringLiteral("the holder's token is not valid UTF-8 text: a shell "
                                                "command cannot name it exactly");
    return true;
}

/// Without --group lockctl does not know the group's guards: the read-only nodes of an unsaved
/// group are named (--read-only-nodes), so that a force-release leaves them alone.
void passReadOnlyNodes(Builder &builder, const LockctlTarget &target)
{
    if (target.saved)
        return;
    QStringList readOnly;
    for (const auto &node : target.group.nodes)
        if (node.readOnly)
            readOnly << node.config.label();
    if (!readOnly.isEmpty())
        builder.words << QStringLiteral("--read-only-nodes") << readOnly.join(QLatin1Char(','));
}

/// lockctl asks for --yes before it writes to a production node of a saved group; the command
/// offered leaves that confirmation to the operator.
void noteProduction(Builder &builder, const LockctlTarget &target)
{
    const bool production =
        std::ranges::any_of(target.group.nodes, [](const auto &node) { return node.production; });
    if (production && target.saved)
        builder.result.notes << QStringLiteral(
            "The group has production nodes: lockctl refuses to write to them "
            "until you add --yes.");
}

} // namespace

QString shellQuote(const QString &argument)
{
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_@%+=:,./-]+$"));
    if (safe.match(argument).hasMatch())
        return argument;
    QString quoted = argument;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QString escapeGlob(const QString &key)
{
    QString escaped;
    escaped.reserve(key.size());
    for (const QChar c : key) {
        if (c == QLatin1Char('*') || c == QLatin1Char('?') || c == QLatin1Char('[') ||
            c == QLatin1Char(']') || c == QLatin1Char('\\'))
            escaped += QLatin1Char('\\');
        escaped += c;
    }
    return escaped;
}

LockctlCommand lockctlAcquireCommand(const LockctlTarget &target, const QByteArray &key,
                                     std::chrono::milliseconds ttl, const QString &label,
                                     std::chrono::milliseconds wait)
{
    Builder builder;
    if (refuseReadOnly(builder, target, QStringLiteral("acquire")) ||
        !start(builder, target, QStringLiteral("acquire"), &key) || !addNodes(builder, target))
        return builder.result;
    if (ttl.count() <= 0) {
        builder.result.error = QStringLiteral("the TTL must be positive");
        return builder.result;
    }
    builder.words << QStringLiteral("--ttl") << lockscope::formatDuration(ttl);
    if (wait.count() > 0)
        builder.words << QStringLiteral("--wait") << lockscope::formatDuration(wait);
    if (!label.isEmpty())
        builder.words << QStringLiteral("--label") << label;
    noteProduction(builder, target);
    builder.result.notes << QStringLiteral("lockctl acquire writes no audit line (the app's acquire does).");
    return builder.finish();
}

LockctlCommand lockctlExtendCommand(const LockctlTarget &target, const LockRecord &record,
                                    std::chrono::milliseconds ttl, lockscope::lock::ExtendMode mode)
{
    Builder builder;
    if (record.schema != QLatin1String("lockscope") || record.token.isEmpty()) {
        builder.result.error =
            QStringLiteral("lockctl extend works on LockScope locks only (it checks the owner's token in the "
                           "value); this lock is %1")
                .arg(record.schema.isEmpty() ? QStringLiteral("not decoded")
                                             : QStringLiteral("a %1 lock").arg(record.schema));
        return builder.result;
    }
    if (!validUtf8(record.token)) {
        builder.result.error = QStringLiteral("the token is not valid UTF-8 text");
        return builder.result;
    }
    if (refuseReadOnly(builder, target, QStringLiteral("extend")) ||
        !start(builder, target, QStringLiteral("extend"), &record.key) || !addNodes(builder, target))
        return builder.result;
    if (ttl.count() <= 0) {
        builder.result.error = QStringLiteral("the TTL must be positive");
        return builder.result;
    }
    builder.words << QStringLiteral("--token") << QString::fromUtf8(record.token) << QStringLiteral("--ttl")
                  << lockscope::formatDuration(ttl);
    if (mode == lockscope::lock::ExtendMode::Add)
        builder.words << QStringLiteral("--add");
    noteProduction(builder, target);
    builder.result.notes << QStringLiteral("lockctl checks the owner's token, not the whole value, needs a "
                                           "quorum of nodes still holding it, and writes no audit line.");
    return builder.finish();
}

LockctlCommand lockctlForceReleaseCommand(const LockctlTarget &target, const LockRecord &record,
                                          bool unconditional)
{
    Builder builder;
    if (!start(builder, target, QStringLiteral("force-release"), &record.key) || !addNodes(builder, target))
        return builder.result;

    std::vector<const NodeEntry *> present;
    for (const NodeEntry &entry : record.nodes)
        if (entry.present())
            present.push_back(&entry);
    if (unconditional) {
        builder.words << QStringLiteral("--unconditional");
    } else if (present.empty()) {
        builder.result.notes << QStringLiteral("The key was on no node when shown: lockctl will say there "
                                               "is nothing to release unless it is back.");
    } else {
        const QByteArray &first = present.front()->raw.value;
        const bool allStrings = std::ranges::all_of(
            present, [](const NodeEntry *entry) { return entry->raw.type == RawEntry::Type::String; });
        const bool allSame =
            std::ranges::all_of(present, [&](const NodeEntry *entry) { return entry->raw.value == first; });
        QString why;
        if (!allStrings)
            why = QStringLiteral("the lock is not a plain string value");
        else if (!allSame)
            why = QStringLiteral("the nodes hold different values");
        else if (!validUtf8(first) || first.contains('\0'))
            why = QStringLiteral("the value is not valid UTF-8 text");
        if (why.isEmpty())
            builder.words << QStringLiteral("--expect-value") << QString::fromUtf8(first);
        else
            builder.result.notes << QStringLiteral("No --expect-value: %1. lockctl deletes, on each node, "
                                                   "exactly what it shows you before you confirm.")
                                        .arg(why);
    }
    passReadOnlyNodes(builder, target);
    builder.result.notes << QStringLiteral(
        "lockctl shows what it would delete on each node and asks you to "
        "type the key before it deletes anything (the command has no --yes).");
    return builder.finish();
}

LockctlCommand lockctlForceReleaseHolderCommand(const LockctlTarget &target, const LockRecord &record,
                                                const QByteArray &holderToken)
{
    Builder builder;
    if (refuseHolderToken(builder, holderToken) ||
        !start(builder, target, QStringLiteral("force-release"), &record.key) || !addNodes(builder, target))
        return builder.result;
    builder.words << QStringLiteral("--holder") << QString::fromUtf8(holderToken);
    passReadOnlyNodes(builder, target);
    builder.result.notes << QStringLiteral(
        "lockctl removes only this holder's entry, as it shows it, after you type the key; the other "
        "holders keep the lock.");
    return builder.finish();
}

LockctlCommand lockctlExtendHolderCommand(const LockctlTarget &target, const LockRecord &record,
                                          const QByteArray &holderToken, std::chrono::milliseconds ttl)
{
    Builder builder;
    if (record.schema != QLatin1String("lockscope-kinds")) {
        builder.result.error =
            QStringLiteral("lockctl extends one holder of LockScope's read/write locks and semaphores only; "
                           "this lock is %1")
                .arg(record.schema.isEmpty() ? QStringLiteral("not decoded")
                                             : QStringLiteral("a %1 lock").arg(record.schema));
        return builder.result;
    }
    if (refuseHolderToken(builder, holderToken) ||
        refuseReadOnly(builder, target, QStringLiteral("extend")) ||
        !start(builder, target, QStringLiteral("extend"), &record.key) || !addNodes(builder, target))
        return builder.result;
    if (ttl.count() <= 0) {
        builder.result.error = QStringLiteral("the TTL must be positive");
        return builder.result;
    }
    builder.words << QStringLiteral("--token") << QString::fromUtf8(holderToken) << QStringLiteral("--ttl")
                  << lockscope::formatDuration(ttl);
    noteProduction(builder, target);
    builder.result.notes << QStringLiteral("lockctl sets this holder's deadline only where its token still "
                                           "holds, needs a quorum of nodes, and writes no audit line.");
    return builder.finish();
}

LockctlCommand lockctlShowCommand(const LockctlTarget &target, const QByteArray &key)
{
    Builder builder;
    if (!start(builder, target, QStringLiteral("show"), &key) || !addNodes(builder, target))
        return builder.result;
    return builder.finish();
}

LockctlCommand lockctlListCommand(const LockctlTarget &target, const QByteArray &key)
{
    Builder builder;
    if (!start(builder, target, QStringLiteral("list"), nullptr) || !addNodes(builder, target))
        return builder.result;
    if (key.isEmpty() || !validUtf8(key) || key.contains('\0')) {
        builder.result.error = key.isEmpty() ? QStringLiteral("no key")
                                             : QStringLiteral("the key is not valid UTF-8 text: a shell "
                                                              "command cannot name it exactly");
        return builder.result;
    }
    builder.words << QStringLiteral("--match") << escapeGlob(QString::fromUtf8(key));
    return builder.finish();
}
