#include "options.h"

#include "exitcode.h"
#include "output.h"
#include "util/displaytext.h"

#include <QTextStream>
#include <future>
#include <inspect/secretstore.h>
#include <iostream>
#include <redis/connection.h>
#include <string>
#include <termios.h>
#include <unistd.h>
#include <util/duration.h>

namespace lockctl {

using lockscope::redis::NodeConfig;

QCommandLineOption helpOption()
{
    return QCommandLineOption({QStringLiteral("h"), QStringLiteral("help")},
                              QStringLiteral("Show this help."));
}

QCommandLineOption jsonOption()
{
    return QCommandLineOption(QStringLiteral("json"), QStringLiteral("Print JSON instead of a table."));
}

QCommandLineOption timeoutOption()
{
    return QCommandLineOption(QStringLiteral("timeout"),
                              QStringLiteral("Connect and command timeout for every node (e.g. 500ms, 2s); "
                                             "overrides the URLs' connect_timeout and timeout."),
                              QStringLiteral("duration"));
}

QCommandLineOption nodesOption()
{
    return QCommandLineOption(
        QStringLiteral("nodes"),
        QStringLiteral("Comma-separated node URLs; may be repeated. One node = a single-instance "
                       "lock, several = a Redlock set (quorum N/2+1). Default: $%1.")
            .arg(QLatin1String(NodesEnvVar)),
        QStringLiteral("URL,..."));
}

QCommandLineOption confirmProductionOption()
{
    return QCommandLineOption(
        QStringLiteral("yes"),
        QStringLiteral("Confirm writes (and faults) against nodes marked production in the "
                       "group. Without it such a command refuses and sends nothing."));
}

bool productionConfirmed(const QCommandLineParser &parser, const std::vector<NodeConfig> &nodes,
                         const QString &command, const QString &what, Output &out)
{
    QStringList production;
    QStringList readOnly;
    for (const NodeConfig &node : nodes) {
        if (node.production)
            production << node.label();
        if (node.readOnly)
            readOnly << node.label();
    }
    if (production.isEmpty() || parser.isSet(QStringLiteral("yes")))
        return true;
    if (!readOnly.isEmpty()) {
        // --yes would not be enough: a read-only node is never written, confirmed or not.
        out.error(QStringLiteral("%1: %2 marked read-only: %3 is refused there even with --yes (clear "
                                 "read_only in the group to allow writes); nothing was sent")
                      .arg(command,
                           readOnly.size() == 1
                               ? QStringLiteral("node %1 is").arg(readOnly.front())
                               : QStringLiteral("nodes %1 are").arg(readOnly.join(QStringLiteral(", "))),
                           what));
        return false;
    }
    out.error(QStringLiteral("%1: %2 marked production: %3 needs --yes; nothing was sent")
                  .arg(command,
                       production.size() == 1
                           ? QStringLiteral("node %1 is").arg(production.front())
                           : QStringLiteral("nodes %1 are").arg(production.join(QStringLiteral(", "))),
                       what));
    return false;
}

QCommandLineOption groupOption()
{
    return QCommandLineOption(
        QStringLiteral("group"),
        QStringLiteral("The nodes of a saved group (lockctl config list) instead of --nodes."),
        QStringLiteral("NAME"));
}

std::optional<lockscope::inspect::NodeGroup> groupValue(const QCommandLineParser &parser,
                                                        const QString &command, Output &out, bool &ok)
{
    if (!parser.isSet(QStringLiteral("group")))
        return std::nullopt;
    const QString name = parser.value(QStringLiteral("group"));
    const QString path = lockscope::inspect::GroupConfig::defaultPath();
    auto config = lockscope::inspect::GroupConfig::load(path);
    if (!config) {
        out.error(QStringLiteral("%1: %2").arg(command, config.error()));
        ok = false;
        return std::nullopt;
    }
    if (const lockscope::inspect::NodeGroup *group = config->group(name))
        return *group;
    QStringList names;
    for (const auto &group : config->groups)
        names << group.name;
    out.error(QStringLiteral("%1: no group '%2' in %3 (%4)")
                  .arg(command, name, path,
                       names.isEmpty() ? QStringLiteral("it has none; see 'lockctl config import'")
                                       : QStringLiteral("groups: ") + names.join(QStringLiteral(", "))));
    ok = false;
    return std::nullopt;
}

QString formatHelp(const QString &usage, const QString &description, const QList<QCommandLineOption> &options,
                   const QString &footer)
{
    QString text = QStringLiteral("Usage: %1\n\n%2\n").arg(usage, description);
    if (!options.isEmpty()) {
        QStringList names;
        qsizetype width = 0;
        for (const QCommandLineOption &option : options) {
            QStringList spelled;
            for (const QString &name : option.names())
                spelled.append((name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + name);
            QString entry = spelled.join(QStringLiteral(", "));
            if (!option.valueName().isEmpty())
                entry += QStringLiteral(" <%1>").arg(option.valueName());
            width = std::max(width, entry.size());
            names.append(entry);
        }
        text += QStringLiteral("\nOptions:\n");
        for (qsizetype i = 0; i < options.size(); ++i) {
            QString explanation = options[i].description();
            if (!options[i].defaultValues().isEmpty())
                explanation += QStringLiteral(" Default: %1.").arg(options[i].defaultValues().join(u','));
            text += QStringLiteral("  %1  %2\n").arg(names[i].leftJustified(width), explanation);
        }
    }
    if (!footer.isEmpty())
        text += QLatin1Char('\n') + footer + QLatin1Char('\n');
    return text;
}

std::optional<int> parseArguments(QCommandLineParser &parser, const QStringList &args,
                                  const QList<QCommandLineOption> &options, const QString &command,
                                  const QString &help, Output &out)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    parser.addOptions(options);
    // QCommandLineParser skips the first element as the program name.
    if (!parser.parse(QStringList{QStringLiteral("lockctl")} + args)) {
        out.error(QStringLiteral("%1: %2 (see 'lockctl help %1')").arg(command, parser.errorText()));
        return exitcode::Usage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out.write(help);
        return exitcode::Ok;
    }
    return std::nullopt;
}

std::optional<std::vector<NodeConfig>> parseNodeUrls(const QStringList &urls, const QString &command,
                                                     Output &out)
{
    std::vector<NodeConfig> nodes;
    nodes.reserve(urls.size());
    bool ok = true;
    for (const QString &url : urls) {
        auto config = NodeConfig::fromUrl(url);
        if (!config) {
            // The parser's message may quote the URL (QUrl does); never echo a password.
            QString message = config.error().message;
            message.replace(url, lockscope::redis::redactUrl(url));
            out.error(QStringLiteral("%1: invalid node URL '%2': %3")
                          .arg(command, lockscope::redis::redactUrl(url), message));
            ok = false;
            continue;
        }
        nodes.push_back(std::move(*config));
    }
    if (!ok)
        return std::nullopt;
    return nodes;
}

QStringList splitUrlList(const QStringList &lists)
{
    QStringList urls;
    for (const QString &list : lists) {
        for (const QString &part : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString url = part.trimmed();
            if (!url.isEmpty())
                urls.append(url);
        }
    }
    return urls;
}

std::optional<QString> readSecretLine(const QString &prompt)
{
    std::string line;
    if (!isatty(STDIN_FILENO)) {
        if (!std::getline(std::cin, line))
            return std::nullopt;
        return QString::fromStdString(line);
    }
    // Echo goes off before the prompt appears, and without TCSAFLUSH: whatever is typed once
    // the prompt shows must not be discarded.
    termios saved{};
    const bool haveTermios = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (haveTermios) {
        termios silent = saved;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        silent.c_lflag |= ECHONL; // the newline still shows, so the next line starts clean
        tcsetattr(STDIN_FILENO, TCSANOW, &silent);
    }
    QTextStream(stderr) << prompt << Qt::flush;
    const bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (haveTermios)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (!ok)
        return std::nullopt;
    return QString::fromStdString(line);
}

namespace {

/// Connects and PINGs (a server that wants AUTH answers NOAUTH to both). Only the error matters.
std::optional<lockscope::redis::RedisError> tryConnect(const NodeConfig &node)
{
    lockscope::redis::Connection connection(node);
    if (auto connected = connection.connect(); !connected)
        return connected.error();
    if (auto pong = connection.command({"PING"}); !pong)
        return pong.error();
    return std::nullopt;
}

/// Fills the passwords of a saved group's nodes (see resolveNodes). False after printing errors.
bool fillGroupPasswords(const lockscope::inspect::NodeGroup &group, std::vector<NodeConfig> &nodes,
                        const QString &command, Output &out)
{
    using namespace lockscope::inspect;
    std::vector<std::size_t> unknown;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].password.isEmpty())
            unknown.push_back(i);
    }
    if (unknown.empty())
        return true;
    const QString fromEnv = qEnvironmentVariable(PasswordEnvVar);
    if (!fromEnv.isEmpty()) {
        for (std::size_t i : unknown)
            nodes[i].password = fromEnv;
        return true;
    }
    KeychainSecretStore keychain;
    const CredentialResolution resolution = resolveCredentials(group, &keychain);
    const QString keychainNote = resolution.storeErrors.isEmpty()
                                     ? QString()
                                     : QStringLiteral(" (keychain: %1)").arg(keychain.unavailableReason());
    for (int i : resolution.fromStore)
        nodes[static_cast<std::size_t>(i)].password =
            resolution.group.nodes[static_cast<std::size_t>(i)].config.password;
    std::erase_if(unknown, [&](std::size_t i) { return !nodes[i].password.isEmpty(); });
    if (unknown.empty())
        return true;

    // The file cannot say whether a node without a password needs one: ask the nodes, all at
    // once so that a Redlock set costs one connect timeout, not N.
    std::vector<std::future<std::optional<lockscope::redis::RedisError>>> checks;
    for (std::size_t i : unknown)
        checks.push_back(std::async(std::launch::async, tryConnect, nodes[i]));
    std::vector<std::size_t> needing;
    for (std::size_t k = 0; k < unknown.size(); ++k) {
        const auto error = checks[k].get();
        if (error && needsPassword(*error))
            needing.push_back(unknown[k]);
    }
    if (needing.empty())
        return true; // unreachable nodes are reported by the command itself

    bool ok = true;
    const bool terminal = isatty(STDIN_FILENO) == 1;
    for (std::size_t i : needing) {
        NodeConfig &node = nodes[i];
        if (!terminal) {
            out.error(
                QStringLiteral("%1: node %2 of group '%3' needs a password and none is known (stdin is not "
                               "a terminal to ask for it): give it in the URL "
                               "(redis://user:PASSWORD@host), set %4, or store it in the keychain with "
                               "'lockctl config set-password %3 %2'%5")
                    .arg(command, node.label(), group.name, QLatin1String(PasswordEnvVar), keychainNote));
            ok = false;
            continue;
        }
        out.flush();
        bool accepted = false;
        for (int attempt = 0; attempt < 3 && !accepted; ++attempt) {
            const auto typed = readSecretLine(QStringLiteral("Password for %1: ").arg(node.label()));
            if (!typed || typed->isEmpty())
                break;
            NodeConfig candidate = node;
            candidate.password = *typed;
            const auto error = tryConnect(candidate);
            if (error && needsPassword(*error)) {
                out.error(QStringLiteral("%1: %2").arg(command, error->toString()));
                continue;
            }
            node.password = *typed;
            accepted = true;
        }
        if (!accepted) {
            out.error(QStringLiteral("%1: no working password for node %2 of group '%3'")
                          .arg(command, node.label(), group.name));
            ok = false;
        }
    }
    return ok;
}

/// Prints one error line and returns false when two of `nodes` address the same server: each
/// would cast a vote, so a "quorum" could rest on that one server. `spelled[i]` is how entry i
/// was given; `source` names where the list came from (--nodes, $LOCKSCOPE_NODES).
bool distinctNodes(const std::vector<NodeConfig> &nodes, const QStringList &spelled, const QString &source,
                   const QString &command, Output &out)
{
    const auto duplicate = lockscope::redis::findDuplicateNodes(nodes);
    if (!duplicate)
        return true;
    const auto &[first, second] = *duplicate;
    const QString a = lockscope::redis::redactUrl(spelled.value(first));
    const QString b = lockscope::redis::redactUrl(spelled.value(second));
    const QString what = a == b ? QStringLiteral("%1 is listed twice").arg(a)
                                : QStringLiteral("%1 and %2 are the same server").arg(a, b);
    out.error(QStringLiteral("%1: %2: %3 (entries %4 and %5): a Redlock set needs distinct servers")
                  .arg(command, source, what)
                  .arg(first + 1)
                  .arg(second + 1));
    return false;
}

} // namespace

std::optional<std::vector<NodeConfig>> resolveNodes(const QCommandLineParser &parser, const QString &command,
                                                    Output &out)
{
    if (parser.isSet(QStringLiteral("group"))) {
        if (parser.isSet(QStringLiteral("nodes"))) {
            out.error(QStringLiteral("%1: give --group or --nodes, not both").arg(command));
            return std::nullopt;
        }
        bool ok = true;
        const auto group = groupValue(parser, command, out, ok);
        if (!ok)
            return std::nullopt;
        std::vector<NodeConfig> nodes;
        for (const auto &node : group->nodes)
            nodes.push_back(node.clientConfig());
        if (!fillGroupPasswords(*group, nodes, command, out))
            return std::nullopt;
        return nodes;
    }
    QStringList urls = splitUrlList(parser.values(QStringLiteral("nodes")));
    QString source = QStringLiteral("--nodes");
    if (urls.isEmpty() && !parser.isSet(QStringLiteral("nodes"))) {
        urls = splitUrlList({qEnvironmentVariable(NodesEnvVar)});
        source = QLatin1Char('$') + QLatin1String(NodesEnvVar);
    }
    if (urls.isEmpty()) {
        out.error(QStringLiteral("%1: no nodes: give --nodes URL[,URL...] or set %2")
                      .arg(command, QLatin1String(NodesEnvVar)));
        return std::nullopt;
    }
    auto nodes = parseNodeUrls(urls, command, out);
    if (!nodes || !distinctNodes(*nodes, urls, source, command, out))
        return std::nullopt;
    return nodes;
}

std::optional<std::chrono::milliseconds> durationValue(const QCommandLineParser &parser,
                                                       const QCommandLineOption &option,
                                                       const QString &command, Output &out, bool &ok)
{
    const QString name = option.names().constLast();
    if (!parser.isSet(name))
        return std::nullopt;
    const QString text = parser.value(name);
    const auto value = lockscope::parseDuration(text);
    if (!value || value->count() <= 0) {
        const QString problem =
            value ? QStringLiteral("must be longer than zero") : lockscope::durationProblem(text);
        out.error(QStringLiteral("%1: --%2: %3").arg(command, name, problem));
        ok = false;
        return std::nullopt;
    }
    return value;
}

bool applyTimeoutOption(const QCommandLineParser &parser, std::vector<NodeConfig> &nodes,
                        const QString &command, Output &out)
{
    if (!parser.isSet(QStringLiteral("timeout")))
        return true;
    const QString text = parser.value(QStringLiteral("timeout"));
    const auto timeout = lockscope::parseDuration(text);
    if (!timeout || timeout->count() <= 0) {
        const QString problem =
            timeout ? QStringLiteral("must be longer than zero") : lockscope::durationProblem(text);
        out.error(QStringLiteral("%1: --timeout: %2").arg(command, problem));
        return false;
    }
    for (NodeConfig &node : nodes) {
        node.connectTimeout = *timeout;
        node.commandTimeout = *timeout;
    }
    return true;
}

std::optional<qint64> parsePositive(const QString &text)
{
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value <= 0)
        return std::nullopt;
    return value;
}

std::optional<QByteArray> keyArgument(const QString &argument, const QString &command, const QString &what,
                                      Output &out)
{
    QString error;
    auto bytes = lockscope::bytesFromDisplayText(argument, &error);
    if (!bytes)
        out.error(QStringLiteral("%1: %2 '%3' is refused: %4").arg(command, what, argument, error));
    return bytes;
}

} // namespace lockctl
