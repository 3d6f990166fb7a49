#include "cli.h"

#include "admincommands.h"
#include "benchcommand.h"
#include "configcommands.h"
#include "exitcode.h"
#include "listcommands.h"
#include "lockcommands.h"
#include "pingcommand.h"
#include "simulatecommand.h"

#include <algorithm>

namespace lockctl {

Cli::Cli()
{
    m_commands.push_back(pingCommand());
    m_commands.push_back(acquireCommand());
    m_commands.push_back(extendCommand());
    m_commands.push_back(releaseCommand());
    m_commands.push_back(ttlCommand());
    m_commands.push_back(listCommand());
    m_commands.push_back(showCommand());
    m_commands.push_back(watchCommand());
    m_commands.push_back(benchCommand());
    m_commands.push_back(forceReleaseCommand());
    m_commands.push_back(configCommand());
    m_commands.push_back(simulateCommand());
}

const Command *Cli::find(const QString &name) const
{
    const auto found = std::ranges::find(m_commands, name, &Command::name);
    return found == m_commands.end() ? nullptr : &*found;
}

QString Cli::usage() const
{
    QString text =
        QStringLiteral("lockctl - command-line companion of LockScope (Redis distributed locks)\n\n"
                       "Usage: lockctl <command> [options] [arguments]\n"
                       "       lockctl help <command>\n\n"
                       "Commands:\n");
    for (const Command &command : m_commands)
        text += QStringLiteral("  %1  %2\n").arg(command.name.leftJustified(8), command.summary);
    text += QStringLiteral("  %1  %2\n")
                .arg(QStringLiteral("help").leftJustified(8), QStringLiteral("Show the help of a command"));
    text += QStringLiteral(
        "\nOptions:\n"
        "  -h, --help  Show this help\n"
        "  --version   Show the version\n\n"
        "Node URLs:\n"
        "  redis://[user[:password]@]host[:port][/db][?option=value&...]\n"
        "  rediss://...                 TLS; options ca, capath, cert, key, sni, verify\n"
        "  unix:///path/to/redis.sock[?db=N&user=U&password=P]\n"
        "  Options for all: name, db, user, password, client_name, connect_timeout, timeout\n\n"
        "Lock commands take --nodes URL[,URL...] (repeatable; several nodes = a Redlock set with\n"
        "quorum N/2+1) or read the same list from $LOCKSCOPE_NODES.\n\n"
        "Exit codes:\n"
        "  0  success\n"
        "  1  error: a node is down or failed, quorum not reached, validity expired, wait timed out\n"
        "  2  usage or configuration error (nothing was contacted)\n"
        "  3  acquire: the lock is held by another owner\n"
        "  4  extend / release / ttl: the lock is not held by this token (or not held at all);\n"
        "     force-release: nothing to release\n"
        "  5  force-release: the lock changed since it was shown (nothing deleted there)\n"
        "  6  simulate: the run completed with violations (lost updates)\n");
    return text;
}

int Cli::help(const QStringList &topics)
{
    if (topics.isEmpty()) {
        m_out.write(usage());
        return exitcode::Ok;
    }
    const Command *command = find(topics.front());
    if (!command) {
        m_out.error(QStringLiteral("help: unknown command '%1' (see 'lockctl --help')").arg(topics.front()));
        return exitcode::Usage;
    }
    m_out.write(command->help);
    return exitcode::Ok;
}

int Cli::run(const QStringList &arguments)
{
    const QStringList args = arguments.mid(1);
    if (args.isEmpty()) {
        m_out.error(QStringLiteral("no command given"));
        m_out.flush();
        m_out.write(usage());
        return exitcode::Usage;
    }
    const QString &first = args.front();
    if (first == QLatin1String("-h") || first == QLatin1String("--help"))
        return help({});
    if (first == QLatin1String("help"))
        return help(args.mid(1));
    if (first == QLatin1String("--version") || first == QLatin1String("version")) {
        m_out.line(QStringLiteral("lockctl %1").arg(QStringLiteral(LOCKCTL_VERSION)));
        return exitcode::Ok;
    }
    const Command *command = find(first);
    if (!command) {
        m_out.error(QStringLiteral("unknown command '%1' (see 'lockctl --help')").arg(first));
        return exitcode::Usage;
    }
    Invocation invocation{args.mid(1), m_out};
    const int code = command->run(invocation);
    m_out.flush();
    return code;
}

} // namespace lockctl
