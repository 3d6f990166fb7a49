#include "demonodes.h"
#include "demotraffic.h"
#include "groupsfile.h"
#include "inspect/nodegroup.h"
#include "inspect/secretstore.h"
#include "lockdetailswidget.h"
#include "mainwindow.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "redis/nodeconfig.h"
#include "simulator/simulatorpanel.h"
#include "stallmeter.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QIcon>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPalette>
#include <QStyle>
#include <QTimer>
#include <cstdio>
#include <malloc.h>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::redis::NodeConfig;

namespace {

constexpr int ExitUsage = 2;

void printError(const QString &message)
{
    std::fprintf(stderr, "lockscope: %s\n", qPrintable(message));
}

/// Fusion's colours for a dark desktop, for --color-scheme dark where the platform theme
/// does not provide one (the Qt 6.4 xcb platform follows the palette, not the desktop's scheme).
QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31), base(0x1f, 0x21, 0x24), text(0xe6, 0xe6, 0xe6);
    const QColor disabled(0x80, 0x80, 0x80), highlight(0x3b, 0x7d, 0xd8);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x27, 0x29, 0x2d));
    p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3d, 0x42));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x35, 0x38, 0x3d));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4e));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3d, 0x42));
    p.setColor(QPalette::Mid, QColor(0x25, 0x27, 0x2b));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1c));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa6, 0xf0));
    p.setColor(QPalette::LinkVisited, QColor(0xa9, 0x8c, 0xf0));
    for (const auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x4a, 0x4d, 0x52));
    return p;
}

} // namespace

int main(int argc, char *argv[])
{
#if defined(__GLIBC__)
    mallopt(M_MXFAST, 0);
#endif
    QApplication::setApplicationName(QStringLiteral("lockscope"));
    QApplication::setApplicationVersion(QStringLiteral(LOCKSCOPE_VERSION));
    QApplication::setOrganizationName(QStringLiteral("LockScope"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Inspect and operate distributed locks on Redis."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demoOption(
        QStringLiteral("demo"),
        QStringLiteral("Start three local Redis nodes (demo-1..3) with simulated services taking locks."));
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("Node groups file (default: $LOCKSCOPE_CONFIG, else %1).")
            .arg(GroupConfig::defaultPath()),
        QStringLiteral("file"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the main window to <file> (and of the Simulator window, when open, to "
                       "<file>-simulator.png) after the screenshot delay (with the first lock "
                       "selected when none is), then quit."),
        QStringLiteral("file"));
    const QCommandLineOption selectOption(
        QStringLiteral("select"),
        QStringLiteral(
            "With --screenshot: the lock whose key is <key> (LockScope's display form: bytes that are "
            "not text as \\xNN) is selected, instead of the first one, and the first holder of a "
            "lock of several is picked in Details."),
        QStringLiteral("key"));
    const QCommandLineOption delayOption(
        QStringLiteral("screenshot-delay"),
        QStringLiteral("Milliseconds to wait before --screenshot (default 3000)."), QStringLiteral("ms"),
        QStringLiteral("3000"));
    const QCommandLineOption stallOption(
        QStringLiteral("stall-report"),
        QStringLiteral("Measure the GUI event loop's longest stall over --refreshes lock refreshes, write it "
                       "to <file> as JSON, then quit (benchmark)."),
        QStringLiteral("file"));
    const QCommandLineOption refreshesOption(
        QStringLiteral("refreshes"), QStringLiteral("Lock refreshes measured by --stall-report (default 3)."),
        QStringLiteral("n"), QStringLiteral("3"));
    const QCommandLineOption schemeOption(
        QStringLiteral("color-scheme"),
        QStringLiteral("light or dark (Fusion style), or system (default: the desktop's style and palette)."),
        QStringLiteral("scheme"), QStringLiteral("system"));
    const QCommandLineOption showSimulatorOption(QStringLiteral("show-simulator"),
                                                 QStringLiteral("Open the Simulator panel at start."));
    const QCommandLineOption simulateOption(
        QStringLiteral("simulate"),
        QStringLiteral("Open the Simulator panel and start a run with its default parameters on local nodes "
                       "(for demos and screenshots)."));
    const QCommandLineOption simulateScenarioOption(
        QStringLiteral("simulate-scenario"),
        QStringLiteral(
            "Open the Simulator panel and start the scenario <name> (as lockctl simulate --scenario; "
            "e.g. quorum-loss) on local nodes (for demos and screenshots)."),
        QStringLiteral("name"));
    const QCommandLineOption demoStopNodeOption(
        QStringLiteral("demo-stop-node"),
        QStringLiteral("With --demo: kill demo node <n> (1-3) 3 s after the demo nodes started, so that the "
                       "node list and the event log show it going down and its circuit breaker opening "
                       "(for demos and screenshots)."),
        QStringLiteral("n"));
    parser.addOptions({demoOption, configOption, schemeOption, screenshotOption, selectOption, delayOption,
                       stallOption, refreshesOption, showSimulatorOption, simulateOption,
                       simulateScenarioOption, demoStopNodeOption});
    parser.addPositionalArgument(
        QStringLiteral("URL"),
        QStringLiteral("Nodes to show, each as its own group: redis://, rediss:// or "
                       "unix:// URLs (instead of the saved groups)."),
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

    // Groups: nodes from the command line (one group each, not saved), else the saved file.
    GroupConfig config;
    QString configPath;
    for (const QString &url : parser.positionalArguments()) {
        auto node = NodeConfig::fromUrl(url);
        if (!node) {
            printError(QStringLiteral("invalid node URL \"%1\": %2")
                           .arg(lockscope::redis::redactUrl(url), node.error().message));
            return ExitUsage;
        }
        config.groups.push_back(NodeGroup{
            .name = node->label(),
            .nodes = {GroupNode{.config = *node, .readOnly = false, .production = false, .color = {}}},
            .match = {}});
    }
    QString configError;
    if (config.groups.empty() && !parser.isSet(demoOption)) {
        configPath = parser.isSet(configOption) ? parser.value(configOption) : GroupConfig::defaultPath();
        auto loaded = GroupConfig::load(configPath);
        if (!loaded) {
            printError(loaded.error());
            // Unattended runs (a screenshot, a benchmark) stop here with the usage exit code;
            // a person gets a dialog once the application exists.
            if (parser.isSet(screenshotOption) || parser.isSet(stallOption))
                return ExitUsage;
            configError = loaded.error();
        } else {
            config = std::move(*loaded);
        }
    }

    int demoStopNode = 0;
    if (parser.isSet(demoStopNodeOption)) {
        bool ok = false;
        demoStopNode = parser.value(demoStopNodeOption).toInt(&ok);
        if (!ok || demoStopNode < 1 || demoStopNode > 3 || !parser.isSet(demoOption)) {
            printError(QStringLiteral("invalid --demo-stop-node \"%1\": expected 1, 2 or 3, with --demo")
                           .arg(parser.value(demoStopNodeOption)));
            return ExitUsage;
        }
    }
    bool delayOk = false;
    const int screenshotDelay = parser.value(delayOption).toInt(&delayOk);
    if (!delayOk || screenshotDelay < 0) {
        printError(QStringLiteral("invalid --screenshot-delay \"%1\": expected milliseconds")
                       .arg(parser.value(delayOption)));
        return ExitUsage;
    }
    bool refreshesOk = false;
    const int refreshes = parser.value(refreshesOption).toInt(&refreshesOk);
    if (!refreshesOk || refreshes < 1) {
        printError(QStringLiteral("invalid --refreshes \"%1\": expected a positive number")
                       .arg(parser.value(refreshesOption)));
        return ExitUsage;
    }

    const QString scheme = parser.value(schemeOption);
    if (scheme != QLatin1String("system") && scheme != QLatin1String("light") &&
        scheme != QLatin1String("dark")) {
        printError(
            QStringLiteral("invalid --color-scheme \"%1\": expected light, dark or system").arg(scheme));
        return ExitUsage;
    }

    QApplication app(argc, argv);
    if (scheme != QLatin1String("system")) {
        QApplication::setStyle(QStringLiteral("Fusion"));
        QApplication::setPalette(scheme == QLatin1String("dark") ? darkPalette()
                                                                 : QApplication::style()->standardPalette());
    }
    QApplication::setApplicationDisplayName(QStringLiteral("LockScope"));
    QApplication::setDesktopFileName(QStringLiteral("lockscope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/lockscope.svg")));

    // Passwords: the system keychain when one answers, else asked at connect and kept for the
    // session only (never written to the groups file).
    lockscope::inspect::SessionSecretStore secrets(
        std::make_unique<lockscope::inspect::KeychainSecretStore>());

    if (!configError.isEmpty() && !groupsfile::askStartWithoutGroups(nullptr, configPath, configError))
        return ExitUsage;

    MainWindow window;
    window.setSecretStore(&secrets);
    window.setGroups(config, configPath);
    if (!configError.isEmpty())
        window.logEvent(MainWindow::EventKind::Error, QString(),
                        QObject::tr("Started without groups: %1").arg(configError));

    DemoNodes demo;
    std::unique_ptr<DemoTraffic> traffic;
    if (parser.isSet(demoOption)) {
        window.setEmptyMessage(QObject::tr("Starting three local demo nodes…"));
        QObject::connect(
            &demo, &DemoNodes::ready, &window,
            [&window, &traffic, &demo, demoStopNode](const QList<NodeConfig> &nodes) {
                window.logEvent(MainWindow::EventKind::Info, QString(),
                                QObject::tr("Started %1 local demo nodes with simulated services; they stop "
                                            "when LockScope quits")
                                    .arg(nodes.size()));
                window.setGroups(DemoTraffic::groups(nodes));
                traffic = std::make_unique<DemoTraffic>(nodes);
                traffic->start();
                if (demoStopNode > 0)
                    QTimer::singleShot(3000, &demo, [&demo, demoStopNode] { demo.stopNode(demoStopNode); });
            });
        QObject::connect(&demo, &DemoNodes::failed, &window, [&window](const QString &message) {
            printError(message);
            window.logEvent(MainWindow::EventKind::Error, QString(), message);
            window.setEmptyMessage(QObject::tr("<p><b>The demo nodes could not be started.</b></p><p>%1</p>"
                                               "<p>Demo mode runs <code>redis-server</code> from the PATH "
                                               "(Debian: <code>apt install redis-server</code>).</p>")
                                       .arg(message.toHtmlEscaped()));
        });
        demo.start(3);
    }

    window.show();
    if (parser.isSet(showSimulatorOption) || parser.isSet(simulateOption) ||
        parser.isSet(simulateScenarioOption))
        window.showSimulator();
    if (parser.isSet(simulateScenarioOption)) {
        const QString name = parser.value(simulateScenarioOption);
        QTimer::singleShot(0, window.simulator(), [&window, name] {
            if (!window.simulator()->startScenario(name))
                qWarning("lockscope: no simulator scenario '%s'", qPrintable(name));
        });
    } else if (parser.isSet(simulateOption)) {
        QTimer::singleShot(0, window.simulator(), &SimulatorPanel::start);
    }

    if (parser.isSet(screenshotOption)) {
        const QString file = parser.value(screenshotOption);
        const QString wanted = parser.value(selectOption);
        QTimer::singleShot(screenshotDelay, &window, [&window, file, wanted] {
            if (!wanted.isEmpty()) {
                bool found = false;
                for (int row = 0; row < window.lockModel()->rowCount() && !found; ++row) {
                    if (window.lockModel()->keyText(row) == wanted) {
                        window.selectLock(window.lockModel()->group(row),
                                          window.lockModel()->record(row)->key);
                        window.details()->selectHolder(0);
                        found = true;
                    }
                }
                if (!found)
                    printError(QStringLiteral("--select: no lock \"%1\" in the table").arg(wanted));
            }
            // A selected lock, so that the details pane shows something.
            if (!window.selectedLock() && window.lockProxy()->rowCount() > 0) {
                const QModelIndex first = window.lockProxy()->index(0, 0);
                const int row = window.lockProxy()->mapToSource(first).row();
                window.selectLock(window.lockModel()->group(row), window.lockModel()->record(row)->key);
            }
            // Grab once the details pane has laid itself out for the selection.
            QTimer::singleShot(300, &window, [&window, file] {
                if (!window.grab().save(file, "PNG")) {
                    printError(QStringLiteral("cannot write screenshot \"%1\"").arg(file));
                    QApplication::exit(1);
                    return;
                }
                // The simulator has a window of its own: saved beside, as <file>-simulator.png.
                if (QWidget *simulator = window.simulator()->window();
                    simulator != &window && simulator->isVisible()) {
                    QString second = file;
                    second.insert(second.endsWith(QLatin1String(".png")) ? second.size() - 4 : second.size(),
                                  QStringLiteral("-simulator"));
                    if (!simulator->grab().save(second, "PNG")) {
                        printError(QStringLiteral("cannot write screenshot \"%1\"").arg(second));
                        QApplication::exit(1);
                        return;
                    }
                }
                QApplication::quit();
            });
        });
    }

    // Benchmark: the longest event-loop stall while the lock refreshes run (and their results
    // are merged into the table), measured on the GUI thread itself.
    StallMeter meter;
    if (parser.isSet(stallOption)) {
        const QString file = parser.value(stallOption);
        window.setAutoRefreshInterval(std::chrono::milliseconds(0));
        // From just after start-up (window shown and laid out), so that only refreshes count.
        QTimer::singleShot(200, &meter, [&meter] { meter.start(); });
        auto done = std::make_shared<int>(0);
        auto scans = std::make_shared<QJsonArray>();
        QObject::connect(
            &window, &MainWindow::locksRefreshed, &window,
            [&window, &meter, file, refreshes, done, scans](quint64, std::chrono::milliseconds elapsed) {
                scans->append(qint64(elapsed.count()));
                if (++*done < refreshes) {
                    window.refreshLocks();
                    return;
                }
                // Let the last results reach the table before reading the meter.
                QTimer::singleShot(500, &window, [&window, &meter, file, scans] {
                    meter.stop();
                    const QJsonObject report{
                        {QStringLiteral("longest_stall_ms"), meter.longestStallMs()},
                        {QStringLiteral("p99_gap_ms"), meter.percentileMs(99)},
                        {QStringLiteral("ticks"), qint64(meter.ticks())},
                        {QStringLiteral("scan_ms"), *scans},
                        {QStringLiteral("locks"), window.lockModel()->rowCount()},
                    };
                    QFile out(file);
                    if (!out.open(QIODevice::WriteOnly) || out.write(QJsonDocument(report).toJson()) < 0) {
                        printError(QStringLiteral("cannot write \"%1\"").arg(file));
                        QApplication::exit(1);
                        return;
                    }
                    QApplication::quit();
                });
            });
    }

    return QApplication::exec();
}
