#include "simulatecommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"
#include "util/duration.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <redis/connection.h>
#include <redis/localserver.h>
#include <sim/simreport.h>
#include <sim/simulation.h>
#include <thread>
#include <unistd.h>
#include <util/duration.h>
#include <vector>

namespace lockctl {

using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::NodeConfig;
using namespace lockscope::sim;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

const QCommandLineOption
    LocalOption(QStringLiteral("local"),
                QStringLiteral("Start N redis-server nodes of its own (free loopback ports, no "
                               "persistence) and stop them at the end; needed to kill and "
                               "restart nodes."),
                QStringLiteral("N"));
const QCommandLineOption WorkersOption(QStringLiteral("workers"),
                                       QStringLiteral("Worker threads (default 8)."), QStringLiteral("N"));
const QCommandLineOption
    ProcessesOption(QStringLiteral("processes"),
                    QStringLiteral("Workers are threads of N processes sharing a Locker each (its "
                                   "connections, pub/sub wake-up, clock); default: one per worker."),
                    QStringLiteral("N"));
const QCommandLineOption KeysOption(QStringLiteral("keys"),
                                    QStringLiteral("Lock keys the workers contend for (default 1)."),
                                    QStringLiteral("K"));
const QCommandLineOption
    HoldOption(QStringLiteral("hold"),
               QStringLiteral("Critical section length: 0, 500us, 1ms, 2s (default 1ms)."),
               QStringLiteral("duration"));
const QCommandLineOption HoldDistributionOption(
    QStringLiteral("hold-distribution"),
    QStringLiteral("fixed (default), uniform (0 to 2 x hold) or exponential (mean hold)."),
    QStringLiteral("kind"));
const QCommandLineOption TtlOption(QStringLiteral("ttl"), QStringLiteral("Lock TTL (default 5s)."),
                                   QStringLiteral("duration"));
const QCommandLineOption
    RetryOption(QStringLiteral("retry"),
                QStringLiteral("Retry strategy of a blocking acquire: exponential:MIN:MAX "
                               "(default exponential:8ms:256ms, jittered), linear:DELAY or none."),
                QStringLiteral("spec"));
const QCommandLineOption
    WaitOption(QStringLiteral("wait"),
               QStringLiteral("Give up one blocking acquire after this long (default: the TTL)."),
               QStringLiteral("duration"));
const QCommandLineOption DurationOption(QStringLiteral("duration"),
                                        QStringLiteral("Run this long (default 10s unless --acquisitions)."),
                                        QStringLiteral("duration"));
const QCommandLineOption AcquisitionsOption(QStringLiteral("acquisitions"),
                                            QStringLiteral("Stop after exactly N acquisitions."),
                                            QStringLiteral("N"));
const QCommandLineOption
    StallOption(QStringLiteral("stall"),
                QStringLiteral("With --stall-every K: one critical section in K stalls this "
                               "long between its validity check and its write (a GC pause)."),
                QStringLiteral("duration"));
const QCommandLineOption StallEveryOption(QStringLiteral("stall-every"), QStringLiteral("See --stall."),
                                          QStringLiteral("K"));
const QCommandLineOption
    FencingOption(QStringLiteral("fencing"),
                  QStringLiteral("Fencing tokens: the resource rejects stale writes (default)."));
const QCommandLineOption
    NoFencingOption(QStringLiteral("no-fencing"),
                    QStringLiteral("No fencing tokens: stale writes are accepted (and counted)."));
const QCommandLineOption
    WatchdogOption(QStringLiteral("watchdog"),
                   QStringLiteral("Each holder runs a watchdog that extends its lock (TTL/3)."));
const QCommandLineOption
    WakeupOption(QStringLiteral("wakeup"),
                 QStringLiteral("How waiters wait: poll (sleep out the retry delay, default) or "
                                "pubsub (releases are published, waiters subscribe)."),
                 QStringLiteral("poll|pubsub"));
const QCommandLineOption HandOffAfterOption(
    QStringLiteral("hand-off-after"),
    QStringLiteral("With --wakeup pubsub: how long the first waiter may be passed over by workers "
                   "that release and come straight back, before the lock is kept for it (default 1ms; "
                   "0: strict arrival order)."),
    QStringLiteral("duration"));
const QCommandLineOption BreakerOption(
    QStringLiteral("breaker"),
    QStringLiteral("The Lockers' circuit breakers: on (default: 3 consecutive failures of a node "
                   "open its breaker for 5 s; nothing is sent to it meanwhile) or off (every "
                   "call still waits out a dead node's timeout)."),
    QStringLiteral("on|off"));
const QCommandLineOption
    DegradedOption(QStringLiteral("degraded"),
                   QStringLiteral("Degraded mode: an acquire that finds too few nodes usable for a quorum "
                                  "takes an in-process lock instead. All workers run in this one process and "
                                  "share its in-process table, so they still exclude each other; separate "
                                  "processes would not."));
const QCommandLineOption
    NoDegradedOption(QStringLiteral("no-degraded"),
                     QStringLiteral("No degraded mode (the default; turns off a scenario's)."));
const QCommandLineOption
    KindOption(QStringLiteral("kind"),
               QStringLiteral("Lock kind: mutex (default), rw (read/write: each section reads with "
                              "probability --read-ratio, else writes), semaphore (--permits N holders), "
                              "fair (waiters served in arrival order), reentrant (each holder takes its "
                              "lock again inside the section and releases twice)."),
               QStringLiteral("mutex|rw|semaphore|fair|reentrant"));
const QCommandLineOption ReadRatioOption(QStringLiteral("read-ratio"),
                                         QStringLiteral("--kind rw: share of sections that read, 0 to 1 "
                                                        "(default 0.8)."),
                                         QStringLiteral("R"));
const QCommandLineOption PermitsOption(QStringLiteral("permits"),
                                       QStringLiteral("--kind semaphore: the number of permits (required)."),
                                       QStringLiteral("N"));
const QCommandLineOption
    ScenarioOption(QStringLiteral("scenario"),
                   QStringLiteral("A ready-made scenario (below); other options override it."),
                   QStringLiteral("NAME"));
const QCommandLineOption
    DriftOption(QStringLiteral("drift"),
                QStringLiteral("Clock drift: worker W's lock clock runs at RATE (1.5 = 50 % "
                               "fast). Repeatable."),
                QStringLiteral("W=RATE"));
const QCommandLineOption FaultOption(QStringLiteral("fault"),
                                     QStringLiteral("Schedule a fault: KIND:TARGET@AT[+LENGTH][=RATE], e.g. "
                                                    "pause:1@2s+500ms, kill:2@3s+1s, drop-connection:0@1s, "
                                                    "clock-drift:3@0s=0.5, stall:-1@2s+800ms. Repeatable."),
                                     QStringLiteral("spec"));
const QCommandLineOption SeedOption(QStringLiteral("seed"),
                                    QStringLiteral("Seed of hold times and key choice (default random)."),
                                    QStringLiteral("N"));
const QCommandLineOption CsvOption(QStringLiteral("csv"),
                                   QStringLiteral("Write every critical section (worker, key, times, fence, "
                                                  "outcome) to FILE as CSV."),
                                   QStringLiteral("FILE"));
const QCommandLineOption QuietOption(QStringLiteral("quiet"),
                                     QStringLiteral("No live status line on stderr."));

/// The CSV keeps this many sections (the most recent); without --csv the ring is smaller.
constexpr int kCsvEvents = 200'000;
/// A node notices a closed connection on its next turn of its event loop: the leak check looks
/// again for this long before it calls a connection left over.
constexpr milliseconds kConnectionSettle{3000};

/// What the run left behind. The process figures come from /proc/self/status before the run
/// and after it, once the Simulation is gone (all of its threads joined); the node figures
/// only from nodes this command started (--local), whose keyspace and clients are the run's
/// alone: a SCAN of a shared node could be long, and its other clients are not ours.
struct LeakCheck
{
    qint64 rssStartKib = -1;
    qint64 rssEndKib = -1;
    qint64 rssPeakKib = -1; ///< VmHWM: the high-water mark over the process's life
    qint64 threadsStart = -1;
    qint64 threadsEnd = -1;

    struct Node
    {
        QString label;
        int connections = -1; ///< clients other than the check's own connection
        int keys = -1;        ///< keys whose name contains the run's prefix (fence counters too)
        QString error;
    };
    std::vector<Node> nodes;

    int connectionsLeft() const
    {
        int sum = 0;
        for (const Node &n : nodes)
            sum += std::max(0, n.connections);
        return sum;
    }
    int keysLeft() const
    {
        int sum = 0;
        for (const Node &n : nodes)
            sum += std::max(0, n.keys);
        return sum;
    }
};

/// A field of /proc/self/status ("VmRSS" in kB, "Threads"); -1 when it cannot be read.
qint64 procStatus(const QByteArray &field)
{
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray prefix = field + ':';
    // readAll, not atEnd(): a /proc file has size 0.
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (!line.startsWith(prefix))
            continue;
        bool ok = false;
        const qint64 value = line.mid(prefix.size()).trimmed().split(' ').front().toLongLong(&ok);
        return ok ? value : -1;
    }
    return -1;
}

/// Glob pattern that matches `text` literally (SCAN MATCH).
QByteArray globEscaped(const QByteArray &text)
{
    QByteArray escaped;
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            escaped += '\\';
        escaped += c;
    }
    return escaped;
}

/// The connections still open on `node` (CLIENT LIST, the check's own left out) and the keys
/// containing `prefix` (SCAN): the lock keys, their fence counters and companions, which the
/// workers' Lockers name after the prefix ("<prefix>{<prefix>k0}.fence"), and the names a
/// prefix with a '{' of its own leaves without it ("{<prefix>k0}.fence", see lock::fenceKeyFor).
LeakCheck::Node nodeLeftovers(const NodeConfig &node, const QByteArray &prefix)
{
    LeakCheck::Node result;
    result.label = node.label();
    NodeConfig config = node;
    config.clientName = QStringLiteral("lockctl-leak-check");
    Connection connection(config);
    auto id = connection.command({QByteArrayView("CLIENT"), QByteArrayView("ID")});
    if (!id) {
        result.error = id.error().toString();
        return result;
    }
    const QByteArray own = "id=" + QByteArray::number(id->integer());
    const auto settled = std::chrono::steady_clock::now() + kConnectionSettle;
    for (;;) {
        auto list = connection.command({QByteArrayView("CLIENT"), QByteArrayView("LIST")});
        if (!list) {
            result.error = list.error().toString();
            return result;
        }
        int others = 0;
        for (const QByteArray &line : list->bytes().split('\n')) {
            const QByteArray trimmed = line.trimmed();
            if (!trimmed.isEmpty() && trimmed.split(' ').front() != own)
                ++others;
        }
        result.connections = others;
        if (others == 0 || std::chrono::steady_clock::now() >= settled)
            break;
        std::this_thread::sleep_for(milliseconds(100));
    }
    const QByteArray pattern = '*' + globEscaped(prefix) + '*';
    QByteArray cursor = "0";
    int keys = 0;
    do {
        auto reply =
            connection.command({QByteArrayView("SCAN"), QByteArrayView(cursor), QByteArrayView("MATCH"),
                                QByteArrayView(pattern), QByteArrayView("COUNT"), QByteArrayView("1000")});
        if (!reply || reply->elements().size() != 2) {
            result.error = reply ? QStringLiteral("unexpected SCAN reply") : reply.error().toString();
            return result;
        }
        cursor = reply->elements()[0].bytes();
        keys += static_cast<int>(reply->elements()[1].elements().size());
    } while (cursor != "0");
    result.keys = keys;
    return result;
}

QJsonObject leakCheckJson(const LeakCheck &leaks)
{
    QJsonObject json{
        {QStringLiteral("rss_start_kib"), leaks.rssStartKib},
        {QStringLiteral("rss_end_kib"), leaks.rssEndKib},
        {QStringLiteral("rss_peak_kib"), leaks.rssPeakKib},
        {QStringLiteral("threads_start"), leaks.threadsStart},
        {QStringLiteral("threads_end"), leaks.threadsEnd},
    };
    if (leaks.nodes.empty())
        return json;
    QJsonArray nodes;
    bool complete = true;
    for (const LeakCheck::Node &n : leaks.nodes) {
        QJsonObject node{{QStringLiteral("node"), n.label},
                         {QStringLiteral("connections"), n.connections},
                         {QStringLiteral("keys"), n.keys}};
        if (!n.error.isEmpty()) {
            node.insert(QStringLiteral("error"), n.error);
            complete = false;
        }
        nodes.append(node);
    }
    json.insert(QStringLiteral("nodes"), nodes);
    // null when a node could not be checked: unknown is not zero.
    json.insert(QStringLiteral("connections_left"),
                complete ? QJsonValue(leaks.connectionsLeft()) : QJsonValue());
    json.insert(QStringLiteral("run_keys_left"), complete ? QJsonValue(leaks.keysLeft()) : QJsonValue());
    return json;
}

QList<QCommandLineOption> simulateOptions()
{
    return {nodesOption(),
            groupOption(),
            LocalOption,
            WorkersOption,
            ProcessesOption,
            KeysOption,
            HoldOption,
            HoldDistributionOption,
            TtlOption,
            RetryOption,
            WaitOption,
            DurationOption,
            AcquisitionsOption,
            StallOption,
            StallEveryOption,
            FencingOption,
            NoFencingOption,
            WatchdogOption,
            WakeupOption,
            HandOffAfterOption,
            BreakerOption,
            DegradedOption,
            NoDegradedOption,
            KindOption,
            ReadRatioOption,
            PermitsOption,
            ScenarioOption,
            DriftOption,
            FaultOption,
            SeedOption,
            jsonOption(),
            CsvOption,
            QuietOption,
            timeoutOption(),
            confirmProductionOption(),
            helpOption()};
}

QString scenariosText()
{
    QString text = QStringLiteral("Scenarios (--scenario NAME):\n");
    for (const Scenario &s : scenarios())
        text += QStringLiteral("  %1  %2. %3\n").arg(s.name.leftJustified(16), s.title, s.description);
    return text;
}

QString simulateHelp()
{
    return formatHelp(
        QStringLiteral(
            "lockctl simulate [--nodes URL,... | --group G | --local N] [--workers N] [--processes N] "
            "[--keys K] "
            "[--hold 1ms] [--ttl 5s] [--duration 10s | --acquisitions N] [--stall D --stall-every K] "
            "[--fencing | --no-fencing] [--watchdog] [--wakeup poll|pubsub [--hand-off-after D]] [--breaker "
            "on|off] [--degraded | "
            "--no-degraded] "
            "[--kind mutex|rw|semaphore|fair|reentrant [--read-ratio R] [--permits N]] [--scenario NAME] "
            "[--json] [--csv FILE]"),
        QStringLiteral(
            "Contention simulator: worker threads, each with its own connections, take a lock (one node:\n"
            "single-instance lock; several: Redlock), then read a shared register, hold, check that the "
            "lock\n"
            "is still valid, and write the register + 1. A write based on a stale value is a violation (a\n"
            "lost update); with fencing the register rejects writes with a token lower than one it has seen\n"
            "(fencing rejections). Overlapping critical sections are counted on their own. Faults: pause a\n"
            "node (SIGSTOP on --local nodes, CLIENT PAUSE WRITE elsewhere), kill and restart a --local "
            "node,\n"
            "stall a holder, drift a worker's clock, drop a worker's connections.\n"
            "Lock kinds (--kind) and what the register checks: mutex, fair and reentrant: one holder at a\n"
            "time; rw: a writer alone, readers together (reader overlaps: allowed, counted apart; a read\n"
            "during which a write landed is a violation; fencing applies to writers); semaphore: at most\n"
            "--permits holders (the permits + 1-th at once is a violation; no fence check, fences of\n"
            "concurrent holders are unordered). Max holders is the most sections on a key at once. For\n"
            "mutex, fair and reentrant, order violations count sections that began while a worker that\n"
            "had been waiting longer (its first attempt refused before the other began) still waited: a\n"
            "fair lock should have none; not a safety failure (not counted with --wakeup pubsub).\n"
            "Circuit breakers (--breaker, on by default) cut a dead node off after 3 failures for 5 s: an\n"
            "acquire that finds too few usable nodes is refused at once (refused by open breakers; the "
            "worker\n"
            "then waits the retry strategy's largest delay). With --degraded such an acquire takes an\n"
            "in-process lock instead (degraded acquisitions). The in-process table is process-wide and "
            "every\n"
            "worker runs in this process, so degraded holders still exclude each other here; workers of\n"
            "separate processes would not. Degraded writes carry no fencing token: the register counts them\n"
            "apart (degraded writes) instead of rejecting them, and still checks them for lost updates.\n"
            "A live status line goes to stderr (redrawn on a terminal, once a second otherwise); the report\n"
            "goes to stdout. Ctrl-C ends the run early and cleanly: faults are reverted, held locks\n"
            "released, the report covers the time run. Lock keys are lockscope:sim:<run id>:k<i>; the run's\n"
            "fence counters are deleted at the end, so a run leaves no key behind.\n"
            "Leak check: the report gives this process's RSS and thread count before and after the run\n"
            "(/proc/self/status; after: once every thread of the run has ended) and, with --local, the\n"
            "connections still open on each node and the keys of the run still there (SCAN) after it\n"
            "(JSON: leak_check). For long runs see scripts/soak.sh and the soak scenario."),
        simulateOptions(),
        scenariosText() +
            QStringLiteral(
                "\nExit codes: 0 the run completed without violations; 6 it completed and the\n"
                "register saw violations (lost updates: a result, not an error, distinct so that\n"
                "scripts can assert a configuration is safe); 1 a node could not be reached at the\n"
                "start or local nodes could not be started; 2 usage error.\n"
                "Example: lockctl simulate --local 3 --workers 8 --hold 0 --duration 10s --json\n"
                "         lockctl simulate --local 1 --kind semaphore --permits 3 --acquisitions 2000"));
}

/// "0", "500us", "1ms", "2s"...: a non-negative duration in microseconds.
std::optional<microseconds> parseHold(const QString &text)
{
    const QString t = text.trimmed();
    if (t.endsWith(QLatin1String("us"))) {
        bool ok = false;
        const qint64 us = t.chopped(2).toLongLong(&ok);
        if (!ok || us < 0)
            return std::nullopt;
        return microseconds(us);
    }
    if (t == QLatin1String("0"))
        return microseconds(0);
    const auto ms = lockscope::parseDuration(t);
    if (!ms)
        return std::nullopt;
    return duration_cast<microseconds>(*ms);
}

std::optional<milliseconds> parseNonNegative(const QString &text)
{
    if (text.trimmed() == QLatin1String("0"))
        return milliseconds(0);
    return lockscope::parseDuration(text.trimmed());
}

std::optional<lockscope::lock::RetryStrategy> parseRetry(const QString &text)
{
    const QStringList parts = text.split(QLatin1Char(':'));
    using lockscope::lock::RetryStrategy;
    if (parts.size() == 1 && parts[0] == QLatin1String("none"))
        return RetryStrategy::none();
    if (parts.size() == 2 && parts[0] == QLatin1String("linear")) {
        const auto delay = lockscope::parseDuration(parts[1]);
        if (!delay || delay->count() <= 0)
            return std::nullopt;
        return RetryStrategy::linear(*delay, 0, 0.5);
    }
    if (parts.size() == 3 && parts[0] == QLatin1String("exponential")) {
        const auto min = lockscope::parseDuration(parts[1]);
        const auto max = lockscope::parseDuration(parts[2]);
        if (!min || !max || min->count() <= 0 || *max < *min)
            return std::nullopt;
        return RetryStrategy::exponential(*min, *max, 0, 0.5);
    }
    return std::nullopt;
}

/// KIND:TARGET@AT[+LENGTH][=RATE]
std::optional<SimFault> parseFault(const QString &text)
{
    QString rest = text.trimmed();
    SimFault fault;
    if (const qsizetype eq = rest.indexOf(QLatin1Char('=')); eq >= 0) {
        bool ok = false;
        fault.rate = rest.mid(eq + 1).toDouble(&ok);
        if (!ok)
            return std::nullopt;
        rest.truncate(eq);
    }
    const qsizetype colon = rest.indexOf(QLatin1Char(':'));
    const qsizetype at = rest.indexOf(QLatin1Char('@'));
    if (colon < 0 || at < colon)
        return std::nullopt;
    const auto kind = SimFault::kindFromName(rest.left(colon));
    bool ok = false;
    fault.target = rest.mid(colon + 1, at - colon - 1).toInt(&ok);
    if (!kind || !ok)
        return std::nullopt;
    fault.kind = *kind;
    QString when = rest.mid(at + 1);
    if (const qsizetype plus = when.indexOf(QLatin1Char('+')); plus >= 0) {
        const auto length = lockscope::parseDuration(when.mid(plus + 1));
        if (!length)
            return std::nullopt;
        fault.length = *length;
        when.truncate(plus);
    }
    const auto start = parseNonNegative(when);
    if (!start)
        return std::nullopt;
    fault.at = *start;
    return fault;
}

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int)
{
    g_interrupted.store(true);
}

QString statusLine(const SimStats &s)
{
    return QStringLiteral(
               "%1s %2  acq %3 (%4/s)  failed %5/s  wait p50 %6 p99 %7  viol %8  rej %9  overlaps %10  "
               "lost %11  fair %12")
        .arg(s.elapsedSeconds, 0, 'f', 1)
        .arg(simStateName(s.state))
        .arg(s.acquisitions)
        .arg(s.acquisitionsPerSec, 0, 'f', 0)
        .arg(s.failedAttemptsPerSec, 0, 'f', 0)
        .arg(lockscope::formatMicros(s.waitP50Us), lockscope::formatMicros(s.waitP99Us))
        .arg(s.violations)
        .arg(s.fencingRejections)
        .arg(s.overlaps)
        .arg(s.lostLocks)
        .arg(s.fairness, 0, 'f', 3);
}

QString kib(qint64 value)
{
    if (value < 0)
        return QStringLiteral("?");
    return QStringLiteral("%1 MiB").arg(static_cast<double>(value) / 1024.0, 0, 'f', 1);
}

/// "mutex", "rw (read ratio 0.8)", "semaphore (3 permits)"...
QString lockKindText(const SimConfig &c)
{
    const QString name = simLockKindName(c.lockKind);
    if (c.lockKind == SimLockKind::ReadWrite)
        return QStringLiteral("%1 (read ratio %2)").arg(name).arg(c.effectiveReadRatio());
    if (c.lockKind == SimLockKind::Semaphore)
        return QStringLiteral("%1 (%2 permits)").arg(name).arg(c.permits);
    return name;
}

/// The counts that belong to the run's lock kind.
void addKindRows(const SimReport &report, const std::function<void(const QString &, const QString &)> &row)
{
    const SimStats &s = report.stats;
    const SimConfig &c = report.config;
    switch (c.lockKind) {
    case SimLockKind::ReadWrite:
        row(QStringLiteral("reads / writes"),
            QStringLiteral("%1 / %2").arg(s.reads).arg(s.acquisitions - s.reads));
        row(QStringLiteral("reader overlaps (allowed)"), QString::number(s.readerOverlaps));
        row(QStringLiteral("max holders at once"), QString::number(s.maxHolders));
        return;
    case SimLockKind::Semaphore:
        row(QStringLiteral("max holders at once"),
            QStringLiteral("%1 (of %2 permits)").arg(s.maxHolders).arg(c.permits));
        return;
    case SimLockKind::Reentrant:
        row(QStringLiteral("re-entries"), QString::number(s.reentries));
        break;
    case SimLockKind::Mutex:
    case SimLockKind::Fair:
        break;
    }
    row(QStringLiteral("max holders at once"), QString::number(s.maxHolders));
    row(c.lockKind == SimLockKind::Fair ? QStringLiteral("order violations (FIFO)")
                                        : QStringLiteral("order violations (FIFO; no promise of this kind)"),
        c.wakeup == Wakeup::PubSub ? QStringLiteral("not counted with pub/sub wake-up")
                                   : QString::number(s.orderViolations));
}

void writeTextReport(const SimReport &report, const LeakCheck &leaks, Output &out)
{
    const SimStats &s = report.stats;
    const SimConfig &c = report.config;
    Table table({QStringLiteral("METRIC"), QStringLiteral("VALUE")});
    table.setAlignment(1, Table::Align::Left);
    const auto row = [&](const QString &name, const QString &value) {
        table.addRow({name, value});
    };
    if (!c.scenario.isEmpty())
        row(QStringLiteral("scenario"), c.scenario);
    row(QStringLiteral("nodes"),
        QStringLiteral("%1 (%2)")
            .arg(c.nodes.size())
            .arg(c.nodes.size() > 1 ? QStringLiteral("Redlock") : QStringLiteral("single instance")));
    row(QStringLiteral("workers / keys"),
        c.processes > 0
            ? QStringLiteral("%1 in %2 processes / %3").arg(c.workers).arg(c.processes).arg(c.keys)
            : QStringLiteral("%1 / %2").arg(c.workers).arg(c.keys));
    row(QStringLiteral("hold / ttl"),
        QStringLiteral("%1 %2 / %3")
            .arg(lockscope::formatMicros(static_cast<quint64>(c.hold.count())),
                 holdDistributionName(c.holdDistribution), lockscope::formatDuration(c.ttl)));
    row(QStringLiteral("lock kind"), lockKindText(c));
    row(QStringLiteral("fencing / watchdog / wakeup"),
        QStringLiteral("%1 / %2 / %3")
            .arg(c.fencing ? QStringLiteral("on") : QStringLiteral("off"),
                 c.watchdog ? QStringLiteral("on") : QStringLiteral("off"),
                 c.wakeup == Wakeup::PubSub ? QStringLiteral("pubsub (hand-off after %1)")
                                                  .arg(lockscope::formatDuration(c.handOffAfter))
                                            : wakeupName(c.wakeup)));
    {
        const lockscope::redis::BreakerOptions defaults;
        row(QStringLiteral("breaker"), c.breaker
                                           ? QStringLiteral("on (%1 failures, %2 s cool-down)")
                                                 .arg(defaults.failureThreshold)
                                                 .arg(static_cast<double>(defaults.coolDown.count()) / 1000.0)
                                           : QStringLiteral("off"));
    }
    row(QStringLiteral("degraded mode"),
        c.degraded ? QStringLiteral("on — %1 acquisitions degraded").arg(s.degradedAcquisitions)
                   : QStringLiteral("off"));
    row(QStringLiteral("elapsed"), QStringLiteral("%1 s").arg(s.elapsedSeconds, 0, 'f', 2));
    row(QStringLiteral("acquisitions"),
        QStringLiteral("%1 (%2/s)").arg(s.acquisitions).arg(s.meanAcquisitionsPerSec, 0, 'f', 0));
    row(QStringLiteral("failed attempts"), QString::number(s.failedAttempts));
    row(QStringLiteral("acquires given up"), QString::number(s.acquireFailures));
    row(QStringLiteral("wait p50 / p95 / p99 / max"),
        QStringLiteral("%1 / %2 / %3 / %4")
            .arg(lockscope::formatMicros(s.waitP50Us), lockscope::formatMicros(s.waitP95Us),
                 lockscope::formatMicros(s.waitP99Us), lockscope::formatMicros(s.waitMaxUs)));
    if (s.censoredWaits > 0)
        row(QStringLiteral("waits cut short (run end, given up)"), QString::number(s.censoredWaits));
    row(QStringLiteral("hold p50 / p99 / max"),
        QStringLiteral("%1 / %2 / %3")
            .arg(lockscope::formatMicros(s.holdP50Us), lockscope::formatMicros(s.holdP99Us),
                 lockscope::formatMicros(s.holdMaxUs)));
    row(c.lockKind == SimLockKind::ReadWrite ? QStringLiteral("violations (lost updates, reads a write hit)")
        : c.lockKind == SimLockKind::Semaphore ? QStringLiteral("violations (holders beyond the permits)")
                                               : QStringLiteral("violations (lost updates)"),
        QString::number(s.violations));
    row(QStringLiteral("fencing rejections"), QString::number(s.fencingRejections));
    if (c.degraded)
        row(QStringLiteral("degraded writes (no fencing token)"), QString::number(s.degradedWrites));
    row(QStringLiteral("overlapping sections"), QString::number(s.overlaps));
    row(QStringLiteral("refused by open breakers"), QString::number(s.breakerRefusals));
    row(QStringLiteral("breaker opens"), QString::number(s.breakerOpens));
    addKindRows(report, row);
    row(QStringLiteral("lost locks (watchdog)"), QString::number(s.lostLocks));
    row(QStringLiteral("expired before release"), QString::number(s.expiredBeforeRelease));
    row(QStringLiteral("abandoned writes"), QString::number(s.abandonedWrites));
    if (s.stalls > 0)
        row(QStringLiteral("stalls"), QString::number(s.stalls));
    if (s.wakeups > 0)
        row(QStringLiteral("pub/sub wake-ups"), QString::number(s.wakeups));
    if (s.handovers > 0)
        row(QStringLiteral("handed over by a release"), QString::number(s.handovers));
    row(QStringLiteral("fairness (Jain)"), QString::number(s.fairness, 'f', 3));
    row(QStringLiteral("keys left"), QString::number(s.keysLeft));
    row(QStringLiteral("RSS start / end (peak)"),
        QStringLiteral("%1 / %2 (%3)")
            .arg(kib(leaks.rssStartKib), kib(leaks.rssEndKib), kib(leaks.rssPeakKib)));
    row(QStringLiteral("threads start / end"),
        QStringLiteral("%1 / %2").arg(leaks.threadsStart).arg(leaks.threadsEnd));
    if (!leaks.nodes.empty()) {
        QStringList connections, keys;
        for (const LeakCheck::Node &n : leaks.nodes) {
            const QString error = n.error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(n.error);
            connections << QStringLiteral("%1 %2%3").arg(n.label).arg(n.connections).arg(error);
            keys << QStringLiteral("%1 %2%3").arg(n.label).arg(n.keys).arg(error);
        }
        row(QStringLiteral("connections left after the run"),
            QStringLiteral("%1 (%2)")
                .arg(leaks.connectionsLeft())
                .arg(connections.join(QStringLiteral(", "))));
        row(QStringLiteral("run keys left (SCAN)"),
            QStringLiteral("%1 (%2)").arg(leaks.keysLeft()).arg(keys.join(QStringLiteral(", "))));
    }
    out.write(table.render());
    out.line();

    Table workers({QStringLiteral("WORKER"), QStringLiteral("ACQUISITIONS"), QStringLiteral("FAILED"),
                   QStringLiteral("MAX WAIT"), QStringLiteral("VIOLATIONS"), QStringLiteral("REJECTED"),
                   QStringLiteral("LOST"), QStringLiteral("STALLS"), QStringLiteral("DEGRADED"),
                   QStringLiteral("BREAKER-REFUSED"), QStringLiteral("BREAKER-OPENS")});
    for (int col = 0; col < 11; ++col)
        workers.setAlignment(col, Table::Align::Right);
    for (const WorkerStats &w : s.workers)
        workers.addRow({QString::number(w.worker), QString::number(w.acquisitions),
                        QString::number(w.failedAttempts), lockscope::formatMicros(w.waitMaxUs),
                        QString::number(w.violations), QString::number(w.fencingRejections),
                        QString::number(w.lostLocks + w.expiredBeforeRelease), QString::number(w.stalls),
                        QString::number(w.degradedAcquisitions), QString::number(w.breakerRefusals),
                        QString::number(w.breakerOpens)});
    out.write(workers.render());
    if (!report.breakers.empty()) {
        out.line();
        for (const BreakerRecord &b : report.breakers)
            out.line(QStringLiteral("%1  %2").arg(
                QStringLiteral("%1s").arg(static_cast<double>(b.atUs) / 1e6, 7, 'f', 3), b.describe()));
    }
    if (!report.faults.empty()) {
        out.line();
        for (const FaultRecord &f : report.faults)
            out.line(QStringLiteral("%1  %2: %3%4")
                         .arg(QStringLiteral("%1s").arg(static_cast<double>(f.atUs) / 1e6, 7, 'f', 3),
                              f.fault.describe(), f.ok ? QString() : QStringLiteral("FAILED: "), f.message));
    }
    if (!report.overlaps.empty()) {
        out.line();
        out.line(QStringLiteral("first overlaps (key: worker@start -> worker@start, µs since the start):"));
        for (size_t i = 0; i < std::min<size_t>(report.overlaps.size(), 5); ++i) {
            const Overlap &o = report.overlaps[i];
            out.line(QStringLiteral("  k%1: w%2@%3 (fence %4) -> w%5@%6 (fence %7)")
                         .arg(o.key)
                         .arg(o.firstWorker)
                         .arg(o.firstStartUs)
                         .arg(o.firstFence)
                         .arg(o.secondWorker)
                         .arg(o.secondStartUs)
                         .arg(o.secondFence));
        }
    }
}

/// --kind, --read-ratio and --permits into `config`; every problem names its flag.
void parseLockKind(const QCommandLineParser &parser, SimConfig &config,
                   const std::function<void(const QString &)> &fail)
{
    if (parser.isSet(KindOption)) {
        const auto kind = simLockKindFromName(parser.value(KindOption));
        if (!kind) {
            fail(QStringLiteral("--kind takes mutex, rw, semaphore, fair or reentrant, not '%1'")
                     .arg(parser.value(KindOption)));
            return;
        }
        config.lockKind = *kind;
    }
    if (parser.isSet(ReadRatioOption)) {
        bool ok = false;
        const double ratio = parser.value(ReadRatioOption).toDouble(&ok);
        if (config.lockKind != SimLockKind::ReadWrite)
            fail(QStringLiteral("--read-ratio applies to --kind rw only"));
        else if (!ok || !(ratio >= 0.0 && ratio <= 1.0))
            fail(QStringLiteral("--read-ratio takes a number from 0 to 1, not '%1'")
                     .arg(parser.value(ReadRatioOption)));
        else
            config.readRatio = ratio;
    }
    constexpr qint64 kMaxPermits = 10'000;
    if (parser.isSet(PermitsOption)) {
        const auto permits = parsePositive(parser.value(PermitsOption));
        if (config.lockKind != SimLockKind::Semaphore)
            fail(QStringLiteral("--permits applies to --kind semaphore only"));
        else if (!permits || *permits > kMaxPermits)
            fail(QStringLiteral("--permits takes an integer from 1 to %1, not '%2'")
                     .arg(kMaxPermits)
                     .arg(parser.value(PermitsOption)));
        else
            config.permits = static_cast<int>(*permits);
    } else if (config.lockKind == SimLockKind::Semaphore) {
        fail(QStringLiteral("--kind semaphore needs --permits N"));
    }
}

int runSimulate(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("simulate");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, simulateOptions(), command, simulateHelp(), out))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        out.error(
            QStringLiteral("simulate: unexpected argument '%1'").arg(parser.positionalArguments().front()));
        return exitcode::Usage;
    }

    bool ok = true;
    const auto fail = [&](const QString &message) {
        out.error(QStringLiteral("simulate: ") + message);
        ok = false;
    };
    SimConfig config;
    config.duration = std::chrono::seconds(10);
    std::optional<Scenario> scenario;
    if (parser.isSet(ScenarioOption)) {
        scenario = findScenario(parser.value(ScenarioOption));
        if (!scenario) {
            QStringList names;
            for (const Scenario &s : scenarios())
                names << s.name;
            out.error(QStringLiteral("simulate: unknown scenario '%1' (one of: %2)")
                          .arg(parser.value(ScenarioOption), names.join(QStringLiteral(", "))));
            return exitcode::Usage;
        }
        applyScenario(scenario->name, config);
    }
    const auto positiveInt = [&](const QCommandLineOption &option, const QString &name,
                                 qint64 max) -> std::optional<int> {
        if (!parser.isSet(option))
            return std::nullopt;
        const auto value = parsePositive(parser.value(option));
        if (!value || *value > max) {
            fail(QStringLiteral("--%1 takes an integer from 1 to %2").arg(name).arg(max));
            return std::nullopt;
        }
        return static_cast<int>(*value);
    };
    if (const auto v = positiveInt(WorkersOption, QStringLiteral("workers"), 1024))
        config.workers = *v;
    if (const auto v = positiveInt(ProcessesOption, QStringLiteral("processes"), 1024))
        config.processes = *v;
    if (const auto v = positiveInt(KeysOption, QStringLiteral("keys"), 100'000))
        config.keys = *v;
    if (const auto v = positiveInt(StallEveryOption, QStringLiteral("stall-every"), 1'000'000))
        config.stallEvery = *v;
    if (parser.isSet(HoldOption)) {
        if (const auto hold = parseHold(parser.value(HoldOption)))
            config.hold = *hold;
        else
            fail(QStringLiteral("--hold takes a duration such as 0, 500us, 1ms, 2s"));
    }
    if (parser.isSet(HoldDistributionOption)) {
        if (const auto d = holdDistributionFromName(parser.value(HoldDistributionOption)))
            config.holdDistribution = *d;
        else
            fail(QStringLiteral("--hold-distribution takes fixed, uniform or exponential"));
    }
    if (const auto ttl = durationValue(parser, TtlOption, command, out, ok))
        config.ttl = *ttl;
    if (const auto wait = durationValue(parser, WaitOption, command, out, ok))
        config.wait = *wait;
    if (parser.isSet(HandOffAfterOption)) {
        if (const auto after = parseNonNegative(parser.value(HandOffAfterOption)))
            config.handOffAfter = *after;
        else
            fail(QStringLiteral("--hand-off-after takes a duration such as 0, 1ms, 5ms"));
    }
    if (const auto stall = durationValue(parser, StallOption, command, out, ok))
        config.stall = *stall;
    if (parser.isSet(RetryOption)) {
        if (const auto retry = parseRetry(parser.value(RetryOption)))
            config.retry = *retry;
        else
            fail(QStringLiteral("--retry takes exponential:MIN:MAX, linear:DELAY or none"));
    }
    const bool acquisitionsSet = parser.isSet(AcquisitionsOption);
    if (acquisitionsSet) {
        const auto n = parsePositive(parser.value(AcquisitionsOption));
        if (n)
            config.maxAcquisitions = *n;
        else
            fail(QStringLiteral("--acquisitions takes a positive integer"));
        if (!parser.isSet(DurationOption))
            config.duration = milliseconds(0); // the count decides
    }
    if (parser.isSet(DurationOption)) {
        if (const auto d = parseNonNegative(parser.value(DurationOption)))
            config.duration = *d;
        else
            fail(QStringLiteral("--duration takes a duration (0 = until Ctrl-C or --acquisitions)"));
    }
    if (parser.isSet(FencingOption) && parser.isSet(NoFencingOption))
        fail(QStringLiteral("give --fencing or --no-fencing, not both"));
    else if (parser.isSet(FencingOption))
        config.fencing = true;
    else if (parser.isSet(NoFencingOption))
        config.fencing = false;
    if (parser.isSet(WatchdogOption))
        config.watchdog = true;
    if (parser.isSet(BreakerOption)) {
        const QString b = parser.value(BreakerOption);
        if (b == QLatin1String("on"))
            config.breaker = true;
        else if (b == QLatin1String("off"))
            config.breaker = false;
        else
            fail(QStringLiteral("--breaker takes on or off, not '%1'").arg(b));
    }
    if (parser.isSet(DegradedOption) && parser.isSet(NoDegradedOption))
        fail(QStringLiteral("give --degraded or --no-degraded, not both"));
    else if (parser.isSet(DegradedOption))
        config.degraded = true;
    else if (parser.isSet(NoDegradedOption))
        config.degraded = false;
    if (parser.isSet(WakeupOption)) {
        const QString w = parser.value(WakeupOption);
        if (w == QLatin1String("poll"))
            config.wakeup = Wakeup::Poll;
        else if (w == QLatin1String("pubsub"))
            config.wakeup = Wakeup::PubSub;
        else
            fail(QStringLiteral("--wakeup takes poll or pubsub"));
    }
    for (const QString &spec : parser.values(DriftOption)) {
        const qsizetype eq = spec.indexOf(QLatin1Char('='));
        bool workerOk = false, rateOk = false;
        const int worker = spec.left(eq).toInt(&workerOk);
        const double rate = spec.mid(eq + 1).toDouble(&rateOk);
        if (eq < 0 || !workerOk || !rateOk)
            fail(QStringLiteral("--drift takes W=RATE, e.g. 2=0.5, not '%1'").arg(spec));
        else
            config.clockRate[worker] = rate;
    }
    for (const QString &spec : parser.values(FaultOption)) {
        if (const auto fault = parseFault(spec))
            config.faults.push_back(*fault);
        else
            fail(QStringLiteral(
                     "--fault takes KIND:TARGET@AT[+LENGTH][=RATE] (kinds: pause, resume, kill, restart, "
                     "drop-connection, clock-drift, stall), not '%1'")
                     .arg(spec));
    }
    if (parser.isSet(SeedOption)) {
        bool seedOk = false;
        config.seed = parser.value(SeedOption).toULongLong(&seedOk);
        if (!seedOk)
            fail(QStringLiteral("--seed takes a non-negative integer"));
    }
    if (parser.isSet(CsvOption))
        config.eventCapacity = kCsvEvents;
    parseLockKind(parser, config, fail);

    int local = 0;
    if (parser.isSet(LocalOption)) {
        const auto n = parsePositive(parser.value(LocalOption));
        if (!n || *n > 16)
            fail(QStringLiteral("--local takes a node count from 1 to 16"));
        else
            local = static_cast<int>(*n);
        if (parser.isSet(QStringLiteral("nodes")) || parser.isSet(QStringLiteral("group")))
            fail(QStringLiteral("give --local or --nodes / --group, not both"));
    }
    if (!ok)
        return exitcode::Usage;

    const bool nodesGiven = parser.isSet(QStringLiteral("nodes")) || parser.isSet(QStringLiteral("group")) ||
                            !qEnvironmentVariable(NodesEnvVar).trimmed().isEmpty();
    if (local == 0 && scenario && scenario->needsLocal) {
        if (nodesGiven) {
            out.error(QStringLiteral(
                          "simulate: scenario %1 kills and restarts nodes: it needs nodes it starts itself "
                          "(--local %2), not --nodes / --group")
                          .arg(scenario->name)
                          .arg(scenario->nodes));
            return exitcode::Usage;
        }
        local = scenario->nodes;
        out.error(
            QStringLiteral("simulate: scenario %1: starting %2 local nodes").arg(scenario->name).arg(local));
    }

    std::vector<std::unique_ptr<LocalRedisServer>> servers;
    std::vector<LocalRedisServer *> localServers;
    if (local > 0) {
        for (int i = 0; i < local; ++i) {
            auto server = LocalRedisServer::start();
            if (!server) {
                out.error(QStringLiteral("simulate: could not start local node %1: %2")
                              .arg(i)
                              .arg(server.error().toString()));
                return exitcode::NodeFailure;
            }
            NodeConfig node = (*server)->nodeConfig();
            node.name = QStringLiteral("local%1").arg(i);
            config.nodes.push_back(node);
            localServers.push_back(server->get());
            servers.push_back(std::move(*server));
        }
    } else {
        auto nodes = resolveNodes(parser, command, out);
        if (!nodes)
            return exitcode::Usage;
        config.nodes = std::move(*nodes);
    }
    if (!applyTimeoutOption(parser, config.nodes, command, out))
        return exitcode::Usage;
    if (scenario && scenario->nodes > 0 && static_cast<int>(config.nodes.size()) < scenario->nodes) {
        out.error(QStringLiteral("simulate: scenario %1 needs %2 nodes, %3 given")
                      .arg(scenario->name)
                      .arg(scenario->nodes)
                      .arg(config.nodes.size()));
        return exitcode::Usage;
    }
    {
        std::vector<bool> isLocal(config.nodes.size(), local > 0);
        if (const QStringList problems = config.validate(isLocal); !problems.isEmpty()) {
            for (const QString &problem : problems)
                out.error(QStringLiteral("simulate: ") + problem);
            return exitcode::Usage;
        }
    }
    if (!productionConfirmed(parser, config.nodes, command,
                             config.faults.empty() && !config.randomFaults
                                 ? QStringLiteral("a simulation (it writes lock keys)")
                                 : QStringLiteral("a simulation with faults (pauses every "
                                                  "client of a node, writes lock keys)"),
                             out))
        return exitcode::Usage;
    // Every node must answer before any worker starts.
    for (const NodeConfig &node : config.nodes) {
        Connection connection(node);
        if (auto pong = connection.command({QByteArrayView("PING")}); !pong) {
            out.error(QStringLiteral("simulate: %1").arg(pong.error().toString()));
            return exitcode::NodeFailure;
        }
    }

    LeakCheck leaks;
    leaks.rssStartKib = procStatus("VmRSS");
    leaks.threadsStart = procStatus("Threads");
    auto simulation = std::make_unique<Simulation>(config, localServers);
    if (auto started = simulation->start(); !started) {
        for (const QString &problem : started.error().split(QLatin1Char('\n')))
            out.error(QStringLiteral("simulate: ") + problem);
        return exitcode::Usage;
    }

    // Ctrl-C, a terminal that goes away (SIGHUP: an SSH drop) and SIGTERM: the first stops the
    // run cleanly (locks released, faults reverted, keys checked), a second one kills as usual.
    g_interrupted = false;
    struct sigaction action
    {};
    action.sa_handler = onInterrupt;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    struct sigaction previous
    {};
    struct sigaction previousHangup
    {};
    sigaction(SIGINT, &action, &previous);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGHUP, &action, &previousHangup);

    const bool terminal = isatty(STDERR_FILENO) == 1;
    const bool live = !parser.isSet(QuietOption);
    auto lastStatus = std::chrono::steady_clock::now();
    bool stopAsked = false;
    out.flush();
    while (!simulation->waitFinished(milliseconds(100))) {
        if (g_interrupted && !stopAsked) {
            stopAsked = true;
            simulation->requestStop();
        }
        const auto now = std::chrono::steady_clock::now();
        if (live && now - lastStatus >= (terminal ? milliseconds(250) : milliseconds(1000))) {
            lastStatus = now;
            const QByteArray line = statusLine(simulation->stats()).toUtf8();
            if (terminal)
                std::fprintf(stderr, "\r\x1b[2K%s", line.constData());
            else
                std::fprintf(stderr, "%s\n", line.constData());
            std::fflush(stderr);
        }
    }
    sigaction(SIGINT, &previous, nullptr);
    sigaction(SIGHUP, &previousHangup, nullptr);
    signal(SIGTERM, SIG_DFL);
    if (live && terminal) {
        std::fputs("\r\x1b[2K", stderr);
        std::fflush(stderr);
    }

    const SimReport report = simulation->report();
    if (parser.isSet(CsvOption)) {
        QFile file(parser.value(CsvOption));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            file.write(eventsToCsv(simulation->events())) < 0) {
            out.error(
                QStringLiteral("simulate: cannot write %1: %2").arg(file.fileName(), file.errorString()));
        }
    }
    // Before the Simulation goes: nodes it restarted are children of its fault thread and end
    // with it (PR_SET_PDEATHSIG).
    if (local > 0) {
        for (const NodeConfig &node : config.nodes)
            leaks.nodes.push_back(nodeLeftovers(node, report.keyPrefix));
    }
    simulation.reset(); // joins the fault thread, the last one of the run
    leaks.rssEndKib = procStatus("VmRSS");
    leaks.rssPeakKib = procStatus("VmHWM");
    leaks.threadsEnd = procStatus("Threads");
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonObject json = reportToJson(report);
        json.insert(QStringLiteral("leak_check"), leakCheckJson(leaks));
        out.json(json);
    } else {
        writeTextReport(report, leaks, out);
    }
    if (stopAsked)
        out.error(QStringLiteral("simulate: interrupted; the report covers %1 s")
                      .arg(report.stats.elapsedSeconds, 0, 'f', 1));
    if (report.stats.keysLeft > 0)
        out.error(QStringLiteral(
                      "simulate: %1 lock key(s) were still on a node at the end (they expire by their TTL)")
                      .arg(report.stats.keysLeft));
    if (leaks.connectionsLeft() > 0 || leaks.keysLeft() > 0)
        out.error(QStringLiteral("simulate: after the run the local nodes still had %1 connection(s) and %2 "
                                 "key(s) of the run")
                      .arg(leaks.connectionsLeft())
                      .arg(leaks.keysLeft()));
    return report.stats.violations > 0 ? exitcode::Violations : exitcode::Ok;
}

} // namespace

Command simulateCommand()
{
    return Command{
        .name = QStringLiteral("simulate"),
        .summary = QStringLiteral("Contention simulator: workers, safety checker, faults, scenarios"),
        .help = simulateHelp(),
        .run = runSimulate,
    };
}

} // namespace lockctl
