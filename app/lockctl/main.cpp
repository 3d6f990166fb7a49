#include "cli.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    // A QCoreApplication for argument decoding and Qt's logging; lockctl never runs an event
    // loop: every command blocks on its own worker threads and returns an exit code.
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("lockctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LOCKCTL_VERSION));
    lockctl::Cli cli;
    return cli.run(QCoreApplication::arguments());
}
