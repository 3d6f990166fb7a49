#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>
#include <QString>
#include <QStringList>
#include <chrono>
#include <inspect/nodegroup.h>
#include <optional>
#include <redis/nodeconfig.h>
#include <vector>

namespace lockctl {

class Output;

/// Options shared by several commands, so that they are spelled the same everywhere.
QCommandLineOption helpOption();
QCommandLineOption jsonOption();
QCommandLineOption timeoutOption();
/// --nodes URL[,URL...], repeatable (the lock commands and `bench lock`).
QCommandLineOption nodesOption();
/// --group NAME: the nodes of a saved group (see `lockctl config`) instead of --nodes.
QCommandLineOption groupOption();
/// --yes: confirms writes (or faults) against nodes of a group marked production.
QCommandLineOption confirmProductionOption();

/// True when none of `nodes` is marked production, or --yes was given; otherwise prints one
/// error line naming the production nodes and `what` would be done to them (nothing is sent).
/// When a node is also marked read-only, --yes would not be enough: the line names the
/// read-only nodes instead of asking for --yes.
bool productionConfirmed(const QCommandLineParser &parser,
                         const std::vector<lockscope::redis::NodeConfig> &nodes, const QString &command,
                         const QString &what, Output &out);

/// The group --group names, from the groups file ($LOCKSCOPE_CONFIG or the default path).
/// nullopt when --group is absent; when it names no group or the file cannot be read, prints
/// one error line and sets `ok` to false.
std::optional<lockscope::inspect::NodeGroup> groupValue(const QCommandLineParser &parser,
                                                        const QString &command, Output &out, bool &ok);

/// Environment variable read when --nodes is absent: the same comma-separated URL list.
inline constexpr char NodesEnvVar[] = "LOCKSCOPE_NODES";
/// Environment variable with the password of every --group node that has none in the groups
/// file (checked before the keychain).
inline constexpr char PasswordEnvVar[] = "LOCKSCOPE_PASSWORD";

/// Reads one line from stdin: on a terminal after printing `prompt` to stderr with echo off,
/// otherwise the first line as is. nullopt at end of input.
std::optional<QString> readSecretLine(const QString &prompt);

/// Help text of a command: usage line, description and one line per option.
QString formatHelp(const QString &usage, const QString &description, const QList<QCommandLineOption> &options,
                   const QString &footer = {});

/// Parses a command's arguments (without the command name) into parser. Returns the exit code
/// to stop with (help printed: 0; bad arguments: 2, with one error line), or nullopt to go on.
std::optional<int> parseArguments(QCommandLineParser &parser, const QStringList &args,
                                  const QList<QCommandLineOption> &options, const QString &command,
                                  const QString &help, Output &out);

/// Parses every URL before anything is contacted. Prints one error line per malformed URL
/// (naming it, password hidden) and returns nullopt if there was any.
std::optional<std::vector<lockscope::redis::NodeConfig>> parseNodeUrls(const QStringList &urls,
                                                                       const QString &command, Output &out);

/// Splits URL lists ("URL,URL" or several of them) into single URLs; blanks are dropped.
QStringList splitUrlList(const QStringList &lists);

/// The nodes of --group, else of every --nodes option, else of $LOCKSCOPE_NODES. Prints one error line and
/// returns nullopt when there are none ("no nodes: ..."), a URL is malformed (naming it) or two
/// entries address the same server (naming both: it would vote twice in a Redlock quorum; a
/// saved group with such a pair is refused when the groups file is read).
/// Nodes of a --group without a password in the file get one from $LOCKSCOPE_PASSWORD, else the
/// keychain; those still without one are tried, and when the server wants a password it is
/// asked for on a terminal, or the command stops with an error naming the node and how to give
/// it. Nothing is written to any node.
std::optional<std::vector<lockscope::redis::NodeConfig>> resolveNodes(const QCommandLineParser &parser,
                                                                      const QString &command, Output &out);

/// A duration option ("250ms", "2s", "1m"). nullopt when it is not set. Prints an error and
/// sets `ok` to false when it is malformed or not strictly positive.
std::optional<std::chrono::milliseconds> durationValue(const QCommandLineParser &parser,
                                                       const QCommandLineOption &option,
                                                       const QString &command, Output &out, bool &ok);

/// The value of --timeout, if given. Prints an error and returns false if it is malformed.
bool applyTimeoutOption(const QCommandLineParser &parser, std::vector<lockscope::redis::NodeConfig> &nodes,
                        const QString &command, Output &out);

/// A strictly positive integer, or nullopt.
std::optional<qint64> parsePositive(const QString &text);

/// The bytes of a KEY (or value) argument, typed as lockctl and the app show it: `\xNN` for
/// bytes that are not text, `\\` for a backslash (lockscope::bytesFromDisplayText). Prints an
/// error naming `what` and returns nullopt when the argument cannot stand for one key (it holds
/// U+FFFD: the terminal's bytes were not UTF-8), so nothing acts on a different key.
std::optional<QByteArray> keyArgument(const QString &argument, const QString &command, const QString &what,
                                      Output &out);

} // namespace lockctl
