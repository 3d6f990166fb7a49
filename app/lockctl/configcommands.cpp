#include "configcommands.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <inspect/nodegroup.h>

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
            "lockctl config path | list | export [-o FILE] [--with-secrets] | import FILE [--config FILE]"),
        QStringLiteral(
            "The saved node groups: a versioned JSON file shared with the lockscope app. A group is one\n"
            "node or a Redlock set; every node may be marked read_only (no writes at all) or production\n"
            "(typed confirmation for destructive actions). Passwords are never written to the file.\n"
            "  path     print the file's location\n"
            "  list     the groups and their nodes (--json: the file's content, without secrets)\n"
            "  export   the groups as JSON, without secrets unless --with-secrets\n"
            "  import   read FILE, check it, and add its groups (same-named groups are replaced)"),
        configOptions(),
        QStringLiteral("Exit codes: 0 done, 2 usage error, unreadable or malformed file (nothing changed)."));
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
        out.error(QStringLiteral("config: say what to do: path, list, export or import FILE"));
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
        auto incoming = GroupConfig::fromJson(file.readAll());
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
    out.error(QStringLiteral("config: unknown action '%1' (path, list, export, import)").arg(action));
    return exitcode::Usage;
}

} // namespace

Command configCommand()
{
    return Command{
        .name = QStringLiteral("config"),
        .summary = QStringLiteral("Saved node groups: path, list, export, import"),
        .help = configHelp(),
        .run = runConfig,
    };
}

} // namespace lockctl
