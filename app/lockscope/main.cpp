#include "demonodes.h"
#include "mainwindow.h"
#include "redis/nodeconfig.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QIcon>
#include <QRegularExpression>
#include <QTimer>
#include <cstdio>

using lockscope::redis::NodeConfig;

namespace {

constexpr int ExitUsage = 2;

void printError(const QString &message)
{
    std::fprintf(stderr, "lockscope: %s\n", qPrintable(message));
}

/// The URL as typed, minus "user:password@" and password options: a URL that failed to parse
/// may still carry a secret.
QString redactedUrl(const QString &url)
{
    QString text = url;
    text.replace(QRegularExpression(QStringLiteral("([?&]password=)[^&]*")), QStringLiteral("\\1***"));
    const qsizetype schemeEnd = text.indexOf(QLatin1String("://"));
    const qsizetype at = text.lastIndexOf(QLatin1Char('@'));
    if (schemeEnd < 0 || at < schemeEnd)
        return text;
    return text.left(schemeEnd + 3) + QStringLiteral("***@") + text.mid(at + 1);
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication::setApplicationName(QStringLiteral("lockscope"));
    QApplication::setApplicationVersion(QStringLiteral(LOCKSCOPE_VERSION));
    QApplication::setOrganizationName(QStringLiteral("LockScope"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Inspect and operate distributed locks on Redis."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demoOption(
        QStringLiteral("demo"), QStringLiteral("Start three local Redis nodes (demo-1..3) and show them."));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the main window to <file> after the screenshot delay, then quit."),
        QStringLiteral("file"));
    const QCommandLineOption delayOption(
        QStringLiteral("screenshot-delay"),
        QStringLiteral("Milliseconds to wait before --screenshot (default 3000)."), QStringLiteral("ms"),
        QStringLiteral("3000"));
    parser.addOptions({demoOption, screenshotOption, delayOption});
    parser.addPositionalArgument(QStringLiteral("URL"),
                                 QStringLiteral("Nodes to show: redis://, rediss:// or unix:// URLs."),
                                 QStringLiteral("[URL...]"));
    // The command line is checked before QApplication exists, so that a bad URL is reported
    // (exit 2) even where no display is available.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    if (!parser.parse(arguments)) {
        printError(parser.errorText());
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all")) ||
        parser.isSet(QStringLiteral("version"))) {
        // Help names the executable from the application's arguments; no display needed.
        QCoreApplication app(argc, argv);
        parser.process(app);
    }

    QList<NodeConfig> nodes;
    for (const QString &url : parser.positionalArguments()) {
        auto config = NodeConfig::fromUrl(url);
        if (!config) {
            printError(
                QStringLiteral("invalid node URL \"%1\": %2").arg(redactedUrl(url), config.error().message));
            return ExitUsage;
        }
        nodes.append(*config);
    }

    bool delayOk = false;
    const int screenshotDelay = parser.value(delayOption).toInt(&delayOk);
    if (!delayOk || screenshotDelay < 0) {
        printError(QStringLiteral("invalid --screenshot-delay \"%1\": expected milliseconds")
                       .arg(parser.value(delayOption)));
        return ExitUsage;
    }

    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("LockScope"));
    QApplication::setDesktopFileName(QStringLiteral("lockscope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/lockscope.svg")));

    MainWindow window;
    window.setNodes(nodes);

    DemoNodes demo;
    if (parser.isSet(demoOption)) {
        if (nodes.isEmpty())
            window.setEmptyMessage(QObject::tr("Starting three local demo nodes…"));
        QObject::connect(
            &demo, &DemoNodes::ready, &window, [&window, nodes](const QList<NodeConfig> &demoNodes) {
                window.logEvent(MainWindow::EventKind::Info, QString(),
                                QObject::tr("Started %1 local demo nodes; they stop when LockScope quits")
                                    .arg(demoNodes.size()));
                window.setNodes(nodes + demoNodes);
            });
        QObject::connect(&demo, &DemoNodes::failed, &window, [&window, nodes](const QString &message) {
            printError(message);
            window.logEvent(MainWindow::EventKind::Error, QString(), message);
            if (nodes.isEmpty())
                window.setEmptyMessage(
                    QObject::tr("<p><b>The demo nodes could not be started.</b></p><p>%1</p>"
                                "<p>Demo mode runs <code>redis-server</code> from the PATH "
                                "(Debian: <code>apt install redis-server</code>).</p>")
                        .arg(message.toHtmlEscaped()));
        });
        demo.start(3);
    }

    window.show();

    if (parser.isSet(screenshotOption)) {
        const QString file = parser.value(screenshotOption);
        QTimer::singleShot(screenshotDelay, &window, [&window, file] {
            if (!window.grab().save(file, "PNG")) {
                printError(QStringLiteral("cannot write screenshot \"%1\"").arg(file));
                QApplication::exit(1);
                return;
            }
            QApplication::quit();
        });
    }

    return QApplication::exec();
}
