#pragma once

#include "inspect/lockrecord.h"
#include "inspect/nodegroup.h"
#include "lock/locker.h"

#include <QString>
#include <QStringList>
#include <chrono>

/// Where a lockctl command points: the saved group by name, or its nodes by URL.
struct LockctlTarget
{
    lockscope::inspect::NodeGroup group;
    /// The group is in the groups file lockctl reads: `--group NAME`. Otherwise the nodes are
    /// spelled out with `--nodes URL,...` (passwords left out).
    bool saved = false;
    /// The groups file when it is not lockctl's default (the app was started with --config):
    /// the command is prefixed with LOCKSCOPE_CONFIG=FILE. Empty = the default file.
    QString configPath;
    QString program = QStringLiteral("lockctl");
};

/// One shell command line, ready to paste into a POSIX shell.
struct LockctlCommand
{
    QString text;      ///< empty when lockctl cannot do it (see error)
    QString error;     ///< why there is no command
    QStringList notes; ///< what the operator should know before running it (passwords, differences)

    bool isValid() const { return !text.isEmpty(); }
};

/// `argument` as one POSIX shell word: left bare when it holds only safe characters, else in
/// single quotes (a ' inside becomes '\'').
QString shellQuote(const QString &argument);

/// `lockctl acquire KEY --ttl D [--wait D] [--label L]`: `label` is the full owner label
/// (Operator::label(note) for what the app's acquire writes). lockctl acquire and extend do not
/// honour read-only marks, so a group with a read-only node gets an error, not a command.
LockctlCommand lockctlAcquireCommand(const LockctlTarget &target, const QByteArray &key,
                                     std::chrono::milliseconds ttl, const QString &label,
                                     std::chrono::milliseconds wait = std::chrono::milliseconds(0));

/// `lockctl extend KEY --token T --ttl D [--add]`: LockScope locks only (lockctl checks the
/// token in the value); any other schema gets an error explaining so.
LockctlCommand lockctlExtendCommand(const LockctlTarget &target, const lockscope::inspect::LockRecord &record,
                                    std::chrono::milliseconds ttl, lockscope::lock::ExtendMode mode);

/// `lockctl force-release KEY --expect-value V` (the value shown) or `--unconditional`. Never
/// `--yes`: lockctl asks for the key on the terminal. Read-only nodes of an unsaved group are
/// passed as --read-only-nodes.
LockctlCommand lockctlForceReleaseCommand(const LockctlTarget &target,
                                          const lockscope::inspect::LockRecord &record, bool unconditional);

/// `lockctl force-release KEY --holder T`: only the holder with token `holderToken` of a lock
/// of several (a reader, a permit). Never `--yes`; read-only nodes of an unsaved group are passed
/// as --read-only-nodes.
LockctlCommand lockctlForceReleaseHolderCommand(const LockctlTarget &target,
                                                const lockscope::inspect::LockRecord &record,
                                                const QByteArray &holderToken);

/// `lockctl extend KEY --token T --ttl D`: one holder of LockScope's read/write locks and
/// semaphores (its entry's deadline becomes now + D; the others keep theirs). Any other format
/// gets an error explaining why.
LockctlCommand lockctlExtendHolderCommand(const LockctlTarget &target,
                                          const lockscope::inspect::LockRecord &record,
                                          const QByteArray &holderToken, std::chrono::milliseconds ttl);

/// `lockctl show KEY`.
LockctlCommand lockctlShowCommand(const LockctlTarget &target, const QByteArray &key);

/// `lockctl list --match GLOB` with the key's glob characters escaped: lists just this key.
LockctlCommand lockctlListCommand(const LockctlTarget &target, const QByteArray &key);

/// The key as a SCAN MATCH glob that matches only itself (\ before * ? [ ] \).
QString escapeGlob(const QString &key);
