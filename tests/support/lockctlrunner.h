#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <utility>

namespace lockscope::test {

/// What one run of the lockctl binary did.
struct RunResult
{
    int exitCode = -1; ///< -1 when it crashed, did not start or did not finish
    QString out;
    QString err;

    QStringList errLines() const { return err.split(QLatin1Char('\n'), Qt::SkipEmptyParts); }
};

/// Runs the lockctl built with the tests (its path comes from CMake). stdin is /dev/null (not
/// a terminal), LOCKSCOPE_NODES is removed from the environment so that a developer's own
/// setting never leaks in, then `env` is applied. Waits at most `timeoutMs`.
RunResult runLockctl(const QStringList &args, const QList<std::pair<QString, QString>> &env = {},
                     int timeoutMs = 60000);

/// Exit code, stdout and stderr, for test failure messages.
QByteArray describe(const RunResult &result);

} // namespace lockscope::test
