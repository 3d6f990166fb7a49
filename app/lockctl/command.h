#pragma once

#include <QString>
#include <QStringList>
#include <functional>

namespace lockctl {

class Output;

/// One run of a command: the arguments after the command name, and where to write.
struct Invocation
{
    QStringList args;
    Output &out;
};

/// A top-level command or command group (`ping`, `bench`, ...). Each group lives in its own
/// file and returns its Command from a factory function; the Cli dispatcher only knows this.
struct Command
{
    QString name;
    QString summary; ///< one line for `lockctl --help`
    QString help;    ///< full text for `lockctl help NAME` and `lockctl NAME --help`
    std::function<int(Invocation &)> run;
};

} // namespace lockctl
