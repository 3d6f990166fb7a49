#pragma once

#include "command.h"
#include "output.h"

#include <vector>

namespace lockctl {

/// The subcommand dispatcher: `lockctl [--help|--version] <command> [args...]` and
/// `lockctl help <command>`. New command groups register in the constructor.
class Cli
{
public:
    Cli();
    /// Runs the command named by arguments (arguments[0] is the program) and returns the exit code.
    int run(const QStringList &arguments);

private:
    const Command *find(const QString &name) const;
    QString usage() const;
    int help(const QStringList &topics);

    std::vector<Command> m_commands;
    Output m_out;
};

} // namespace lockctl
