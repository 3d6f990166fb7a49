#include "lockctlrunner.h"

#include <QProcess>

namespace lockscope::test {

RunResult runLockctl(const QStringList &args, const QList<std::pair<QString, QString>> &env, int timeoutMs)
{
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("LOCKSCOPE_NODES"));
    for (const auto &[name, value] : env)
        environment.insert(name, value);
    process.setProcessEnvironment(environment);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start(QStringLiteral(LOCKCTL_PATH), args);
    RunResult result;
    if (!process.waitForStarted(10000)) {
        result.err = QStringLiteral("cannot start lockctl: ") + process.errorString();
        return result;
    }
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        result.err = QStringLiteral("lockctl did not finish within %1 ms").arg(timeoutMs);
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

QByteArray describe(const RunResult &result)
{
    return QStringLiteral("exit %1\n--- stdout\n%2--- stderr\n%3")
        .arg(result.exitCode)
        .arg(result.out, result.err)
        .toUtf8();
}

} // namespace lockscope::test
