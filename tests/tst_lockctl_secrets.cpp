// lockctl and node passwords: a saved group without its password, on a terminal (asked without
// echo), off a terminal (a clear error), from $LOCKSCOPE_PASSWORD, and `config set-password`.

#include "lockctlrunner.h"
#include "redisfixture.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using lockscope::test::describe;
using lockscope::test::RunResult;
using lockscope::test::ServerKind;

namespace {

/// A groups file with one group "secured" holding `server` under the name "vault-a", without
/// its password.
QString writeGroups(const QTemporaryDir &dir, const lockscope::redis::LocalRedisServer &server)
{
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(QStringLiteral("{\"version\":1,\"groups\":[{\"name\":\"secured\",\"nodes\":[{\"url\":"
                              "\"redis://127.0.0.1:%1?name=vault-a&connect_timeout=2s\"}]}]}")
                   .arg(server.port())
                   .toUtf8());
    return path;
}

QList<std::pair<QString, QString>> environment(const QString &config, const QTemporaryDir &dir)
{
    // No keychain of the developer's session may answer for the test's nodes.
    return {{QStringLiteral("LOCKSCOPE_CONFIG"), config},
            {QStringLiteral("XDG_DATA_HOME"), dir.path()},
            {QStringLiteral("LOCKSCOPE_PASSWORD"), QString()}};
}

} // namespace

class TestLockctlSecrets : public QObject
{
    Q_OBJECT

private slots:
    void missingPasswordOffATerminalNamesTheNode()
    {
        LS_START_SERVER(server, ServerKind::Password);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        const RunResult r = lockscope::test::runLockctl({QStringLiteral("list"), QStringLiteral("--group"),
                                                         QStringLiteral("secured"), QStringLiteral("--json")},
                                                        environment(config, dir));
        QVERIFY2(r.exitCode == 2, describe(r).constData());
        QVERIFY2(r.err.contains(QLatin1String("vault-a")) && r.err.contains(QLatin1String("'secured'")),
                 describe(r).constData());
        QVERIFY2(r.err.contains(QLatin1String("needs a password")), describe(r).constData());
        QVERIFY2(r.err.contains(QLatin1String("LOCKSCOPE_PASSWORD")) &&
                     r.err.contains(QLatin1String("lockctl config set-password secured vault-a")),
                 describe(r).constData());
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.errLines().size() == 1, describe(r).constData()); // one line, no keychain chatter
    }

    void environmentPasswordConnects()
    {
        LS_START_SERVER(server, ServerKind::Password);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        auto env = environment(config, dir);
        env.back().second = QString::fromLatin1(lockscope::test::kPassword);
        const RunResult r = lockscope::test::runLockctl({QStringLiteral("list"), QStringLiteral("--group"),
                                                         QStringLiteral("secured"), QStringLiteral("--json")},
                                                        env);
        QVERIFY2(r.exitCode == 0, describe(r).constData());
        QCOMPARE(r.out, QStringLiteral("[]\n")); // read, and nothing there
    }

    void openNodeNeedsNoPassword()
    {
        LS_START_SERVER(server, ServerKind::Plain);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        const RunResult r = lockscope::test::runLockctl({QStringLiteral("list"), QStringLiteral("--group"),
                                                         QStringLiteral("secured"), QStringLiteral("--json")},
                                                        environment(config, dir));
        QVERIFY2(r.exitCode == 0, describe(r).constData());
    }

    /// On a terminal (util-linux `script` provides one) lockctl asks, without echo.
    void terminalPromptWithoutEcho()
    {
        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("util-linux 'script' is not installed: no pseudo-terminal for the prompt");
        LS_START_SERVER(server, ServerKind::Password);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        const auto run = [&](const QByteArray &typed) {
            QProcess process;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            for (const auto &[name, value] : environment(config, dir))
                env.insert(name, value);
            env.remove(QStringLiteral("LOCKSCOPE_PASSWORD"));
            process.setProcessEnvironment(env);
            const QString commandLine =
                QStringLiteral("'%1' list --group secured --json").arg(QStringLiteral(LOCKCTL_PATH));
            process.start(script, {QStringLiteral("-qec"), commandLine, QStringLiteral("/dev/null")});
            if (!process.waitForStarted(10000))
                return RunResult{-1, {}, process.errorString()};
            // The prompt must be up (echo off) before the password is typed.
            QByteArray seen;
            while (!seen.contains("Password for") && process.waitForReadyRead(20000))
                seen += process.readAllStandardOutput();
            process.write(typed + '\n');
            process.closeWriteChannel();
            if (!process.waitForFinished(30000)) {
                process.kill();
                process.waitForFinished();
            }
            seen += process.readAllStandardOutput();
            return RunResult{process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
                             QString::fromUtf8(seen), QString::fromUtf8(process.readAllStandardError())};
        };
        const RunResult right = run(lockscope::test::kPassword);
        QVERIFY2(right.exitCode == 0, describe(right).constData());
        QVERIFY2(right.out.contains(QLatin1String("Password for vault-a: ")), describe(right).constData());
        QVERIFY2(!right.out.contains(QLatin1String(lockscope::test::kPassword)), describe(right).constData());

        // A wrong password is refused by the server and asked again; end of input gives up.
        const RunResult wrong = run("not-the-password");
        QVERIFY2(wrong.exitCode == 2, describe(wrong).constData());
        QVERIFY2(wrong.out.contains(QLatin1String("WRONGPASS")) || wrong.out.contains(QLatin1String("auth")),
                 describe(wrong).constData());
        QVERIFY2(wrong.out.contains(QLatin1String("no working password for node vault-a")),
                 describe(wrong).constData());
        QVERIFY(!wrong.out.contains(QLatin1String("not-the-password")));
    }

    /// set-password stores through the keychain, or fails clearly where there is none (this
    /// headless machine, usually): either way nothing lands in the groups file.
    void setPasswordUsesTheKeychainOrSaysThereIsNone()
    {
        LS_START_SERVER(server, ServerKind::Password);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        QFile file(config);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();

        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const auto &[name, value] : environment(config, dir))
            env.insert(name, value);
        process.setProcessEnvironment(env);
        process.start(QStringLiteral(LOCKCTL_PATH), {QStringLiteral("config"), QStringLiteral("set-password"),
                                                     QStringLiteral("secured"), QStringLiteral("vault-a")});
        QVERIFY(process.waitForStarted(10000));
        process.write(QByteArray(lockscope::test::kPassword) + '\n');
        process.closeWriteChannel();
        QVERIFY2(process.waitForFinished(60000), "set-password did not finish: the keychain must not hang");
        const RunResult r{process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
                          QString::fromUtf8(process.readAllStandardError())};
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
        if (r.exitCode == 1) {
            QVERIFY2(r.err.contains(QLatin1String("no keychain")) &&
                         r.err.contains(QLatin1String("LOCKSCOPE_PASSWORD")),
                     describe(r).constData());
            return;
        }
        // A keychain exists: the stored password lets --group connect, and forget removes it.
        QVERIFY2(r.exitCode == 0 && r.out.contains(QLatin1String("stored the password of vault-a")),
                 describe(r).constData());
        const RunResult list = lockscope::test::runLockctl(
            {QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("secured")},
            environment(config, dir));
        QVERIFY2(list.exitCode == 0, describe(list).constData());
        const RunResult forget =
            lockscope::test::runLockctl({QStringLiteral("config"), QStringLiteral("forget-password"),
                                         QStringLiteral("secured"), QStringLiteral("1")},
                                        environment(config, dir));
        QVERIFY2(forget.exitCode == 0, describe(forget).constData());
    }

    void setPasswordNamesUnknownGroupsAndNodes()
    {
        LS_START_SERVER(server, ServerKind::Plain);
        QTemporaryDir dir;
        const QString config = writeGroups(dir, *server);
        const RunResult noGroup =
            lockscope::test::runLockctl({QStringLiteral("config"), QStringLiteral("set-password"),
                                         QStringLiteral("nope"), QStringLiteral("1")},
                                        environment(config, dir));
        QVERIFY2(noGroup.exitCode == 2 && noGroup.err.contains(QLatin1String("no group 'nope'")),
                 describe(noGroup).constData());
        const RunResult noNode =
            lockscope::test::runLockctl({QStringLiteral("config"), QStringLiteral("set-password"),
                                         QStringLiteral("secured"), QStringLiteral("db9")},
                                        environment(config, dir));
        QVERIFY2(noNode.exitCode == 2 && noNode.err.contains(QLatin1String("no node 'db9'")) &&
                     noNode.err.contains(QLatin1String("vault-a")),
                 describe(noNode).constData());
    }
};

QTEST_GUILESS_MAIN(TestLockctlSecrets)
#include "tst_lockctl_secrets.moc"
