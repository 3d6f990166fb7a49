#include "configcommands.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <inspect/nodegroup.h>
#include <inspect/secretstore.h>

namespace lockctl {

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;

namespace {

QCommandLineOption configFileOption()
{
    return QCommandLineOption(
        QStringList{QStringLiteral("config")},
        QStringLiteral("Groups file (default: $LOCKSCOPE_CONFIG, else ~/.config/lockscope/groups.json)."),
        QStringLiteral("FILE"));
}

QCommandLineOption withSecretsOption()
{
    return QCommandLineOption(
        QStringList{QStringLiteral("with-secrets")},
        QStringLiteral("export: include passwords (they are never saved in the groups file)."));
}

QCommandLineOption outputOption()
{
    return QCommandLineOption(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("export: write to FILE instead of stdout."),
                              QStringLiteral("FILE"));
}

QList<QCommandLineOption> configOptions()
{
    return {configFileOption(), withSecretsOption(), outputOption(), jsonOption(), helpOption()};
}

QString configHelp()
{
    return formatHelp(
        QStringLiteral(
            "lockctl config path | list | export [-o FILE] [--with-secrets] | import FILE |\n"
            "                      set-password GROUP NODE | forget-password GROUP NODE [--config FILE]"),
        QStringLiteral(
            "The saved node groups: a versioned JSON file shared with the lockscope app. A group is one\n"
            "node or a Redlock set; every node may be marked read_only (no writes at all) or production\n"
            "(typed confirmation for destructive actions). Passwords are never written to the file.\n"
            "  path     print the file's location\n"
            "  list     the groups and their nodes (--json: the file's content, without secrets)\n"
            "  export   the groups as JSON, without secrets unless --with-secrets\n"
            "  import   read FILE, check it, and add its groups (same-named groups are replaced)\n"
            "  set-password GROUP NODE     store a node's password in the system keychain (read from a\n"
            "           no-echo prompt on a terminal, else the first line of stdin); NODE is the node's\n"
            "           name, host:port or number in the group. Commands with --group use it when the\n"
            "           file has no password ($LOCKSCOPE_PASSWORD, if set, comes first)\n"
            "  forget-password GROUP NODE  remove it from the keychain"),
        configOptions(),
        QStringLiteral(
            "Exit codes: 0 done, 1 no keychain available or it failed, 2 usage error, unreadable or\n"
            "malformed file, unknown group or node (nothing changed)."));
}

/// The node of `group` that `which` names: its name, its host:port (or socket path), or its
/// number in the group (from 1).
const lockscope::inspect::GroupNode *findNode(const NodeGroup &group, const QString &which)
{
    bool isNumber = false;
    const int number = which.toInt(&isNumber);
    if (isNumber && number >= 1 && number <= static_cast<int>(group.nodes.size()))
        return &group.nodes[static_cast<std::size_t>(number - 1)];
    for (const auto &node : group.nodes) {
        if (node.config.label() == which || node.config.address() == which)
            return &node;
    }
    return nullptr;
}

int runPasswordAction(const QString &action, const QStringList &positional, const GroupConfig &config,
                      const QString &path, Output &out)
{
    const QString command = QStringLiteral("config ") + action;
    if (positional.size() != 3) {
        out.error(QStringLiteral("%1: give the group and the node (lockctl config %2 GROUP NODE)")
                      .arg(command, action));
        return exitcode::Usage;
    }
    const NodeGroup *group = config.group(positional.at(1));
    if (!group) {
        out.error(QStringLiteral("%1: no group '%2' in %3").arg(command, positional.at(1), path));
        return exitcode::Usage;
    }
    const lockscope::inspect::GroupNode *node = findNode(*group, positional.at(2));
    if (!node) {
        QStringList labels;
        for (const auto &n : group->nodes)
            labels << n.config.label();
        out.error(QStringLiteral("%1: group '%2' has no node '%3' (nodes: %4)")
                      .arg(command, group->name, positional.at(2), labels.join(QStringLiteral(", "))));
        return exitcode::Usage;
    }
    lockscope::inspect::KeychainSecretStore keychain;
    if (!keychain.available()) {
        out.error(
            QStringLiteral("%1: no keychain to store it in: %2. Give the password in the node's URL or "
                           "set LOCKSCOPE_PASSWORD instead; on a terminal lockctl asks for it at connect")
                .arg(command, keychain.unavailableReason()));
        return exitcode::NodeFailure;
    }
    const QString key = lockscope::inspect::secretKey(group->name, node->config);
    if (action == u"forget-password") {
        if (auto removed = keychain.remove(key); !removed) {
            out.error(QStringLiteral("%1: %2: %3").arg(command, node->config.label(), removed.error()));
            return exitcode::NodeFailure;
        }
        out.line(QStringLiteral("removed the password of %1 (group %2) from the keychain")
                     .arg(node->config.label(), group->name));
        return exitcode::Ok;
    }
    out.flush();
    const auto password = readSecretLine(QStringLiteral("Password for %1: ").arg(node->config.label()));
    if (!password || password->isEmpty()) {
        out.error(QStringLiteral("%1: no password given for %2; nothing stored")
                      .arg(command, node->config.label()));
        return exitcode::Usage;
    }
    if (auto written = keychain.write(key, *password); !written) {
        out.error(QStringLiteral("%1: %2: %3").arg(command, node->config.label(), written.error()));
        return exitcode::NodeFailure;
    }
    out.line(QStringLiteral("stored the password of %1 (group %2) in the keychain")
                 .arg(node->config.label(), group->name));
    return exitcode::Ok;
}

int runConfig(Invocation &invocation)
{
    Output &out = invocation.out;
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, configOptions(), QStringLiteral("config"),
                                   configHelp(), out))
        return *stop;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty()) {
        out.error(QStringLiteral("config: say what to do: path, list, export, import FILE, set-password or "
                                 "forget-password GROUP NODE"));
        return exitcode::Usage;
    }
    const QString action = positional.front();
    const QString path = parser.isSet(QStringLiteral("config")) ? parser.value(QStringLiteral("config"))
                                                                : GroupConfig::defaultPath();
    if (action == u"path") {
        out.line(path);
        return exitcode::Ok;
    }
    auto config = GroupConfig::load(path);
    if (!config) {
        out.error(QStringLiteral("config: %1").arg(config.error()));
        return exitcode::Usage;
    }
    if (action == u"list") {
        if (parser.isSet(QStringLiteral("json"))) {
            out.write(QString::fromUtf8(config->toJson(false)));
            return exitcode::Ok;
        }
        if (config->groups.empty()) {
            out.line(QStringLiteral("no groups in %1 (add some with: lockctl config import FILE)").arg(path));
            return exitcode::Ok;
        }
        Table table({QStringLiteral("GROUP"), QStringLiteral("KIND"), QStringLiteral("NODE"),
                     QStringLiteral("FLAGS")});
        for (const NodeGroup &group : config->groups) {
            const QString kind =
                group.isRedlockSet()
                    ? QStringLiteral("redlock %1/%2").arg(group.quorum()).arg(group.nodes.size())
                    : QStringLiteral("single");
            bool first = true;
            for (const auto &node : group.nodes) {
                QStringList flags;
                if (node.readOnly)
                    flags << QStringLiteral("read-only");
                if (node.production)
                    flags << QStringLiteral("production");
                table.addRow({first ? group.name : QString(), first ? kind : QString(),
                              node.config.toUrl(false), flags.join(QLatin1Char(','))});
                first = false;
            }
        }
        out.write(table.render());
        return exitcode::Ok;
    }
    if (action == u"export") {
        const QByteArray json = config->toJson(parser.isSet(QStringLiteral("with-secrets")));
        if (!parser.isSet(QStringLiteral("output"))) {
            out.write(QString::fromUtf8(json));
            return exitcode::Ok;
        }
        QFile file(parser.value(QStringLiteral("output")));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(json) != json.size()) {
            out.error(QStringLiteral("config export: %1: %2").arg(file.fileName(), file.errorString()));
            return exitcode::Usage;
        }
        return exitcode::Ok;
    }
    if (action == u"import") {
        if (positional.size() != 2) {
            out.error(QStringLiteral("config import: give the file to import"));
            return exitcode::Usage;
        }
        QFile file(positional.at(1));
        if (!file.open(QIODevice::ReadOnly)) {
            out.error(QStringLiteral("config import: %1: %2").arg(file.fileName(), file.errorString()));
            return exitcode::Usage;
        }
        // FILE may be a pipe (/dev/stdin, <(...)), so any kind of file is read, but never more
        // than a groups file may hold: /dev/zero must not take all memory.
        const QByteArray json = file.read(GroupConfig::kMaxFileSize + 1);
        if (json.size() > GroupConfig::kMaxFileSize) {
            out.error(QStringLiteral("config import: %1: more than a groups file may hold (%2 MiB; nothing "
                                     "imported)")
                          .arg(file.fileName())
                          .arg(GroupConfig::kMaxFileSize / (1024 * 1024)));
            return exitcode::Usage;
        }
        auto incoming = GroupConfig::fromJson(json);
        if (!incoming) {
            out.error(QStringLiteral("config import: %1: %2 (nothing imported)")
                          .arg(file.fileName(), incoming.error()));
            return exitcode::Usage;
        }
        const QStringList replaced = config->merge(*incoming);
        if (auto saved = config->save(path); !saved) {
            out.error(QStringLiteral("config import: %1").arg(saved.error()));
            return exitcode::Usage;
        }
        out.line(
            QStringLiteral("imported %1 group(s) into %2%3")
                .arg(incoming->groups.size())
                .arg(path, replaced.isEmpty()
                               ? QString()
                               : QStringLiteral(" (replaced: %1)").arg(replaced.join(QStringLiteral(", ")))));
        bool secrets = false;
        for (const NodeGroup &group : incoming->groups)
            for (const auto &node : group.nodes)
                secrets = secrets || !node.config.password.isEmpty();
        if (secrets)
            out.line(QStringLiteral("note: the passwords in %1 were not saved; give them at connect time")
                         .arg(file.fileName()));
        return exitcode::Ok;
    }
    if (action == u"set-password" || action == u"forget-password")
        return runPasswordAction(action, positional, *config, path, out);
    out.error(QStringLiteral("config: unknown action '%1' (path, list, export, import, set-password, "
                             "forget-password)")
                  .arg(action));
    return exitcode::Usage;
}

} // namespace

Command configCommand()
{
    return Command{
        .name = QStringLiteral("config"),
        .summary = QStringLiteral("Saved node groups: path, list, export, import, set-password"),
        .help = configHelp(),
        .run = runConfig,
    };
}

} // namespace lockctl
