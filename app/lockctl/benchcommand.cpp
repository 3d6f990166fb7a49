#include "benchcommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"
#include "util/quorum.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <bench/lockbench.h>
#include <chrono>
#include <cmath>
#include <inspect/scanner.h>
#include <malloc.h>
#include <redis/connection.h>
#include <sys/resource.h>
#include <util/duration.h>
#include <vector>

namespace lockctl {

using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using lockscope::redis::RedisReply;
using Clock = std::chrono::steady_clock;

namespace {

const QCommandLineOption RequestsOption({QStringLiteral("n"), QStringLiteral("requests")},
                                        QStringLiteral("Number of PING commands to time."),
                                        QStringLiteral("N"), QStringLiteral("100000"));
const QCommandLineOption
    PipelineOption(QStringLiteral("pipeline"),
                   QStringLiteral("Commands sent per round trip (one write, then K reads)."),
                   QStringLiteral("K"), QStringLiteral("1"));
const QCommandLineOption WarmupOption(QStringLiteral("warmup"),
                                      QStringLiteral("Untimed round trips before measuring."),
                                      QStringLiteral("N"), QStringLiteral("1000"));

QList<QCommandLineOption> benchPingOptions()
{
    return {RequestsOption, PipelineOption, WarmupOption, jsonOption(), timeoutOption(), helpOption()};
}

QString benchPingHelp()
{
    return formatHelp(
        QStringLiteral("lockctl bench ping [options] URL"),
        QStringLiteral("One client, one connection: warms up, then times N PING round trips with a\n"
                       "monotonic clock and prints round trips per second and the p50 / p99 latency.\n"
                       "Compare with: redis-benchmark -c 1 -n 100000 -t ping (its PING_MBULK line)."),
        benchPingOptions(),
        QStringLiteral("Exit codes: 0 done, 1 the node failed, 2 usage error or malformed URL."));
}

struct Subcommand
{
    QString name;
    QString summary;
    QString help;
    int (*run)(Invocation &);
};

struct PingStats
{
    qint64 requests = 0;
    qint64 roundTrips = 0;
    double seconds = 0;
    double p50Us = 0;
    double p99Us = 0;
    double maxUs = 0;
};

double percentileUs(const std::vector<Clock::duration> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    // Nearest rank: the smallest sample with at least p of all samples at or below it.
    const auto rank = std::size_t(std::ceil(p * double(sorted.size())));
    const Clock::duration value = sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
    return std::chrono::duration<double, std::micro>(value).count();
}

/// One round trip of `batch` PINGs. Returns false (with the error printed) on any failure.
bool pingRoundTrip(Connection &connection, qint64 batch, Output &out)
{
    const auto checkPong = [&](const RedisReply &reply) {
        if (reply.isStatus() && reply.bytes() == "PONG")
            return true;
        out.error(QStringLiteral("%1: unexpected reply to PING: %2")
                      .arg(connection.node(), reply.toDisplayString()));
        return false;
    };
    if (batch == 1) {
        auto reply = connection.command({QByteArrayView("PING")});
        if (!reply) {
            out.error(reply.error().toString());
            return false;
        }
        return checkPong(*reply);
    }
    for (qint64 i = 0; i < batch; ++i)
        connection.append({QByteArrayView("PING")});
    if (auto flushed = connection.flush(); !flushed) {
        out.error(flushed.error().toString());
        return false;
    }
    for (qint64 i = 0; i < batch; ++i) {
        auto reply = connection.readReply();
        if (!reply) {
            out.error(reply.error().toString());
            return false;
        }
        if (!checkPong(*reply))
            return false;
    }
    return true;
}

int runBenchPing(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("bench ping");
    QCommandLineParser parser;
    if (auto stop =
            parseArguments(parser, invocation.args, benchPingOptions(), command, benchPingHelp(), out))
        return *stop;
    const QStringList urls = parser.positionalArguments();
    if (urls.size() != 1) {
        out.error(QStringLiteral("bench ping: expected exactly one node URL (see 'lockctl help bench')"));
        return exitcode::Usage;
    }
    const auto requests = parsePositive(parser.value(RequestsOption));
    const auto pipeline = parsePositive(parser.value(PipelineOption));
    bool warmupOk = false;
    const qint64 warmup = parser.value(WarmupOption).toLongLong(&warmupOk);
    if (!requests || !pipeline || !warmupOk || warmup < 0) {
        out.error(QStringLiteral("bench ping: -n and --pipeline take a positive integer, --warmup a "
                                 "non-negative one"));
        return exitcode::Usage;
    }
    auto nodes = parseNodeUrls(urls, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;
    const NodeConfig &node = nodes->front();

    Connection connection(node);
    if (auto connected = connection.connect(); !connected) {
        out.error(connected.error().toString());
        return exitcode::NodeFailure;
    }
    for (qint64 done = 0; done < warmup; done += *pipeline) {
        if (!pingRoundTrip(connection, std::min(*pipeline, warmup - done), out))
            return exitcode::NodeFailure;
    }

    std::vector<Clock::duration> samples;
    samples.reserve(std::size_t((*requests + *pipeline - 1) / *pipeline));
    const Clock::time_point start = Clock::now();
    Clock::time_point previous = start;
    for (qint64 done = 0; done < *requests; done += *pipeline) {
        if (!pingRoundTrip(connection, std::min(*pipeline, *requests - done), out))
            return exitcode::NodeFailure;
        const Clock::time_point now = Clock::now();
        samples.push_back(now - previous);
        previous = now;
    }
    const double seconds = std::chrono::duration<double>(previous - start).count();
    std::ranges::sort(samples);

    PingStats stats;
    stats.requests = *requests;
    stats.roundTrips = qint64(samples.size());
    stats.seconds = seconds;
    stats.p50Us = percentileUs(samples, 0.50);
    stats.p99Us = percentileUs(samples, 0.99);
    stats.maxUs = percentileUs(samples, 1.0);
    const double rps = seconds > 0 ? double(stats.requests) / seconds : 0;
    const double roundTripsPerSecond = seconds > 0 ? double(stats.roundTrips) / seconds : 0;

    if (parser.isSet(QStringLiteral("json"))) {
        out.json(QJsonObject{
            {QStringLiteral("node"), connection.node()},
            {QStringLiteral("address"), node.address()},
            {QStringLiteral("tls"), node.tls.enabled},
            {QStringLiteral("command"), QStringLiteral("PING")},
            {QStringLiteral("requests"), stats.requests},
            {QStringLiteral("pipeline"), *pipeline},
            {QStringLiteral("round_trips"), stats.roundTrips},
            {QStringLiteral("seconds"), stats.seconds},
            {QStringLiteral("rps"), rps},
            {QStringLiteral("round_trips_per_s"), roundTripsPerSecond},
            {QStringLiteral("p50_us"), stats.p50Us},
            {QStringLiteral("p99_us"), stats.p99Us},
            {QStringLiteral("max_us"), stats.maxUs},
        });
        return exitcode::Ok;
    }
    const auto us = [](double value) {
        return QStringLiteral("%1 µs").arg(value, 0, 'f', 1);
    };
    Table table({QStringLiteral("METRIC"), QStringLiteral("VALUE")});
    table.addRow({QStringLiteral("node"),
                  QStringLiteral("%1%2").arg(connection.node(),
                                             node.tls.enabled ? QStringLiteral(" (TLS)") : QString())});
    table.addRow({QStringLiteral("requests"), QString::number(stats.requests)});
    table.addRow({QStringLiteral("pipeline"), QString::number(*pipeline)});
    table.addRow({QStringLiteral("elapsed"), QStringLiteral("%1 s").arg(seconds, 0, 'f', 3)});
    if (*pipeline > 1)
        table.addRow({QStringLiteral("requests/s"), QString::number(rps, 'f', 0)});
    table.addRow({QStringLiteral("round-trips/s"), QString::number(roundTripsPerSecond, 'f', 0)});
    table.addRow({QStringLiteral("p50 latency"), us(stats.p50Us)});
    table.addRow({QStringLiteral("p99 latency"), us(stats.p99Us)});
    table.addRow({QStringLiteral("max latency"), us(stats.maxUs)});
    out.write(table.render());
    return exitcode::Ok;
}

// --- bench lock -------------------------------------------------------------------------------

using lockscope::bench::LockBenchOptions;
using lockscope::bench::LockBenchResult;

const QCommandLineOption ClientsOption(QStringLiteral("clients"),
                                       QStringLiteral("Client threads, each cycling on its own key."),
                                       QStringLiteral("C"), QStringLiteral("1"));
const QCommandLineOption
    DurationOption(QStringLiteral("duration"),
                   QStringLiteral("Length of every timed run (each library, each round)."),
                   QStringLiteral("duration"), QStringLiteral("5s"));
const QCommandLineOption BenchTtlOption(QStringLiteral("ttl"), QStringLiteral("TTL of the benchmark locks."),
                                        QStringLiteral("duration"), QStringLiteral("10s"));
const QCommandLineOption RoundsOption(QStringLiteral("rounds"),
                                      QStringLiteral("Rounds; each runs both loops, in alternating order."),
                                      QStringLiteral("R"), QStringLiteral("3"));

const QCommandLineOption BenchNoFencingOption(
    QStringLiteral("no-fencing"),
    QStringLiteral(
        "LockScope run without fencing tokens: a plain SET NX PX acquire, as the bare loop sends."));

QList<QCommandLineOption> benchLockOptions()
{
    return {nodesOption(), groupOption(),        ClientsOption, DurationOption,  BenchTtlOption,
            RoundsOption,  BenchNoFencingOption, jsonOption(),  timeoutOption(), confirmProductionOption(),
            helpOption()};
}

QString benchLockHelp()
{
    return formatHelp(
        QStringLiteral("lockctl bench [lock] --nodes URL[,URL...] [--clients C] [--duration D] [--ttl D] "
                       "[--rounds R] [--json]"),
        QStringLiteral("Try-acquire + release cycles per second, with p50 / p99 latency per cycle from a\n"
                       "full histogram, for LockScope's Locker and for the reference: a bare blocking\n"
                       "hiredis loop with no library (SET NX PX, then EVALSHA compare-and-delete; on\n"
                       "several nodes it writes to every node before reading). Both run on the same\n"
                       "servers, interleaved round by round; the ratio is lockscope / bare hiredis and\n"
                       "the summary takes the median over the rounds. Each client works on its own key\n"
                       "under lockscope:bench: (fence counters, which have no TTL by design, stay\n"
                       "behind). Plain TCP and unix sockets only: the bare loop has no TLS."),
        benchLockOptions(),
        QStringLiteral("Exit codes: 0 done, 1 a node failed or no cycle completed, 2 usage error or\n"
                       "malformed URL.\n"
                       "Example: lockctl bench --nodes redis://127.0.0.1:7001,redis://127.0.0.1:7002,"
                       "redis://127.0.0.1:7003 --duration 5s"));
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::ranges::sort(values);
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

struct BenchRound
{
    LockBenchResult lockscope;
    LockBenchResult bare;
    bool bareFirst = true;
    double ratio() const { return bare.cyclesPerSec > 0 ? lockscope.cyclesPerSec / bare.cyclesPerSec : 0; }
};

QJsonObject benchFigures(double cyclesPerSec, double p50Us, double p99Us)
{
    return QJsonObject{
        {QStringLiteral("cycles_per_sec"), cyclesPerSec},
        {QStringLiteral("p50_us"), p50Us},
        {QStringLiteral("p99_us"), p99Us},
    };
}

QJsonObject resultJson(const LockBenchResult &r)
{
    QJsonObject object = benchFigures(r.cyclesPerSec, r.p50Us, r.p99Us);
    object.insert(QStringLiteral("max_us"), r.maxUs);
    object.insert(QStringLiteral("cycles"), qint64(r.cycles));
    object.insert(QStringLiteral("failures"), qint64(r.failures));
    object.insert(QStringLiteral("seconds"), r.seconds);
    return object;
}

/// The run's first problem as one line, or empty when it is usable.
QString benchProblem(const LockBenchResult &r)
{
    if (!r.error.isEmpty())
        return QStringLiteral("%1: %2").arg(r.name, r.error);
    if (r.cycles == 0)
        return QStringLiteral("%1: no cycle completed (%2 failures)").arg(r.name).arg(r.failures);
    return {};
}

int runBenchLock(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("bench lock");
    QCommandLineParser parser;
    if (auto stop =
            parseArguments(parser, invocation.args, benchLockOptions(), command, benchLockHelp(), out))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        out.error(
            QStringLiteral("bench lock: unexpected argument '%1' (nodes go in --nodes; see 'lockctl help "
                           "bench')")
                .arg(parser.positionalArguments().front()));
        return exitcode::Usage;
    }
    const auto clients = parsePositive(parser.value(ClientsOption));
    const auto rounds = parsePositive(parser.value(RoundsOption));
    const auto duration = lockscope::parseDuration(parser.value(DurationOption));
    const auto ttl = lockscope::parseDuration(parser.value(BenchTtlOption));
    if (!clients || !rounds || *clients > 1024) {
        out.error(
            QStringLiteral("bench lock: --clients (at most 1024) and --rounds take a positive integer"));
        return exitcode::Usage;
    }
    if (!duration || duration->count() <= 0 || !ttl || ttl->count() <= 0) {
        out.error(
            QStringLiteral("bench lock: --duration and --ttl take a positive duration (e.g. 300ms, 5s)"));
        return exitcode::Usage;
    }
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;
    QStringList readOnly;
    for (const NodeConfig &node : *nodes)
        if (node.readOnly)
            readOnly << node.label();
    if (!readOnly.isEmpty()) {
        out.error(QStringLiteral(
                      "bench lock: %1 marked read-only: a benchmark writes lock keys and fence counters; "
                      "nothing was sent")
                      .arg(readOnly.join(QStringLiteral(", "))));
        return exitcode::Usage;
    }
    if (!productionConfirmed(parser, *nodes, command,
                             QStringLiteral("a benchmark (it writes lock keys and fence "
                                            "counters)"),
                             out))
        return exitcode::Usage;
    for (const NodeConfig &node : *nodes) {
        if (node.tls.enabled) {
            out.error(
                QStringLiteral("bench lock: %1: TLS nodes are not supported (the bare hiredis reference "
                               "has no TLS); use redis:// or unix://")
                    .arg(node.label()));
            return exitcode::Usage;
        }
    }

    LockBenchOptions options;
    options.nodes = *nodes;
    options.clients = static_cast<int>(*clients);
    options.duration = *duration;
    options.ttl = *ttl;
    options.fencing = !parser.isSet(BenchNoFencingOption);

    // Interleaved on the same servers; the order alternates so that neither loop always runs
    // on a warmer (or more loaded) machine.
    std::vector<BenchRound> results;
    for (qint64 round = 0; round < *rounds; ++round) {
        BenchRound r;
        r.bareFirst = round % 2 == 0;
        if (r.bareFirst) {
            r.bare = lockscope::bench::runBareHiredis(options);
            r.lockscope = lockscope::bench::runLockScope(options);
        } else {
            r.lockscope = lockscope::bench::runLockScope(options);
            r.bare = lockscope::bench::runBareHiredis(options);
        }
        const QString problem =
            !benchProblem(r.bare).isEmpty() ? benchProblem(r.bare) : benchProblem(r.lockscope);
        if (!problem.isEmpty()) {
            out.error(QStringLiteral("bench lock: round %1: %2").arg(round + 1).arg(problem));
            return exitcode::NodeFailure;
        }
        results.push_back(std::move(r));
    }

    const auto medianOf = [&](auto field) {
        std::vector<double> values;
        for (const BenchRound &r : results)
            values.push_back(field(r));
        return median(std::move(values));
    };
    const double lsRate = medianOf([](const BenchRound &r) { return r.lockscope.cyclesPerSec; });
    const double lsP50 = medianOf([](const BenchRound &r) { return r.lockscope.p50Us; });
    const double lsP99 = medianOf([](const BenchRound &r) { return r.lockscope.p99Us; });
    const double bareRate = medianOf([](const BenchRound &r) { return r.bare.cyclesPerSec; });
    const double bareP50 = medianOf([](const BenchRound &r) { return r.bare.p50Us; });
    const double bareP99 = medianOf([](const BenchRound &r) { return r.bare.p99Us; });
    const double ratio = medianOf([](const BenchRound &r) { return r.ratio(); });

    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray roundsJson;
        for (std::size_t i = 0; i < results.size(); ++i) {
            const BenchRound &r = results[i];
            roundsJson.append(QJsonObject{
                {QStringLiteral("round"), qint64(i + 1)},
                {QStringLiteral("first"),
                 r.bareFirst ? QStringLiteral("bare_hiredis") : QStringLiteral("lockscope")},
                {QStringLiteral("lockscope"), resultJson(r.lockscope)},
                {QStringLiteral("bare_hiredis"), resultJson(r.bare)},
                {QStringLiteral("ratio"), r.ratio()},
            });
        }
        QJsonArray nodeNames;
        for (const NodeConfig &node : *nodes)
            nodeNames.append(node.label());
        QJsonObject object = benchFigures(lsRate, lsP50, lsP99);
        object.insert(QStringLiteral("benchmark"), QStringLiteral("lock"));
        object.insert(QStringLiteral("nodes"), nodeNames);
        object.insert(QStringLiteral("quorum"), lockscope::quorumOf(int(nodes->size())));
        object.insert(QStringLiteral("clients"), options.clients);
        object.insert(QStringLiteral("duration_ms"), qint64(options.duration.count()));
        object.insert(QStringLiteral("ttl_ms"), qint64(options.ttl.count()));
        object.insert(QStringLiteral("fencing"), options.fencing);
        object.insert(QStringLiteral("bare_hiredis"), benchFigures(bareRate, bareP50, bareP99));
        object.insert(QStringLiteral("ratio"), ratio);
        object.insert(QStringLiteral("rounds"), roundsJson);
        out.json(object);
        return exitcode::Ok;
    }

    const auto rate = [](double value) {
        return QString::number(value, 'f', 0);
    };
    const auto us = [](double value) {
        return QStringLiteral("%1 µs").arg(value, 0, 'f', 1);
    };
    out.line(QStringLiteral("lock bench: %1 node%2 (quorum %3), %4 client%5, %6 per run, TTL %7, %8 round%9, "
                            "fencing %10")
                 .arg(nodes->size())
                 .arg(nodes->size() == 1 ? QString() : QStringLiteral("s"))
                 .arg(lockscope::quorumOf(int(nodes->size())))
                 .arg(options.clients)
                 .arg(options.clients == 1 ? QString() : QStringLiteral("s"))
                 .arg(lockscope::formatDuration(options.duration), lockscope::formatDuration(options.ttl))
                 .arg(results.size())
                 .arg(results.size() == 1 ? QString() : QStringLiteral("s"))
                 .arg(options.fencing ? QStringLiteral("on") : QStringLiteral("off")));
    Table table({QStringLiteral("ROUND"), QStringLiteral("LOCKSCOPE/S"), QStringLiteral("P50"),
                 QStringLiteral("P99"), QStringLiteral("BARE/S"), QStringLiteral("P50"),
                 QStringLiteral("P99"), QStringLiteral("RATIO")});
    for (qsizetype c = 1; c < 8; ++c)
        table.setAlignment(c, Table::Align::Right);
    for (std::size_t i = 0; i < results.size(); ++i) {
        const BenchRound &r = results[i];
        table.addRow({QString::number(i + 1), rate(r.lockscope.cyclesPerSec), us(r.lockscope.p50Us),
                      us(r.lockscope.p99Us), rate(r.bare.cyclesPerSec), us(r.bare.p50Us), us(r.bare.p99Us),
                      QString::number(r.ratio(), 'f', 3)});
    }
    table.addRow({QStringLiteral("median"), rate(lsRate), us(lsP50), us(lsP99), rate(bareRate), us(bareP50),
                  us(bareP99), QString::number(ratio, 'f', 3)});
    out.write(table.render());
    out.line(QStringLiteral("ratio lockscope / bare hiredis: %1 (median of %2 round%3)")
                 .arg(ratio, 0, 'f', 3)
                 .arg(results.size())
                 .arg(results.size() == 1 ? QString() : QStringLiteral("s")));
    quint64 failures = 0;
    for (const BenchRound &r : results)
        failures += r.lockscope.failures + r.bare.failures;
    if (failures > 0)
        out.error(QStringLiteral("bench lock: %1 cycles failed (not counted)").arg(failures));
    return exitcode::Ok;
}

// --- bench snapshot ---------------------------------------------------------------------------

const QCommandLineOption SnapshotCountOption(QStringLiteral("count"), QStringLiteral("SCAN COUNT hint."),
                                             QStringLiteral("N"), QStringLiteral("1000"));
const QCommandLineOption SnapshotBatchOption(QStringLiteral("batch"),
                                             QStringLiteral("Keys per pipelined MGET + PTTL batch."),
                                             QStringLiteral("N"), QStringLiteral("512"));
const QCommandLineOption SnapshotMatchOption(QStringLiteral("match"),
                                             QStringLiteral("SCAN MATCH glob (default: the schemas' own)."),
                                             QStringLiteral("PATTERN"));

QList<QCommandLineOption> benchSnapshotOptions()
{
    return {nodesOption(),       groupOption(), SnapshotCountOption, SnapshotBatchOption,
            SnapshotMatchOption, jsonOption(),  timeoutOption(),     helpOption()};
}

QString benchSnapshotHelp()
{
    return formatHelp(
        QStringLiteral("lockctl bench snapshot --nodes URL[,URL...] [--count N] [--batch N] [--json]"),
        QStringLiteral("Times one full inspector snapshot of a node group, as 'lockctl list' takes it:\n"
                       "SCAN on every node in parallel, MGET + PTTL in pipelined batches, decoding by\n"
                       "the built-in schemas, one record per key aggregated across the nodes. Prints\n"
                       "the seconds, the records and the memory per record, measured two ways while\n"
                       "the snapshot is alive: the heap in use (glibc mallinfo2) and the resident set\n"
                       "size (VmRSS), each after minus before, divided by the records."),
        benchSnapshotOptions(),
        QStringLiteral(
            "Exit codes: 0 done, 1 a node failed, 2 usage error or malformed URL.\n"
            "See scripts/bench-snapshot.sh for the 3 x (100,000 locks + 50,000 other keys) set-up."));
}

/// Bytes of heap in use (glibc's allocator statistics).
qint64 heapInUse()
{
    const struct mallinfo2 info = mallinfo2();
    return qint64(info.uordblks) + qint64(info.hblkhd);
}

/// User + system CPU time of this process so far, in seconds.
double cpuSeconds()
{
    struct rusage usage
    {};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) {
        return double(t.tv_sec) + double(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Resident set size of this process, from /proc/self/status (0 when unavailable).
qint64 residentBytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').front().toLongLong() * 1024;
    }
    return 0;
}

int runBenchSnapshot(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("bench snapshot");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, benchSnapshotOptions(), command,
                                   benchSnapshotHelp(), out))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        out.error(QStringLiteral("bench snapshot: unexpected argument '%1' (nodes go in --nodes)")
                      .arg(parser.positionalArguments().front()));
        return exitcode::Usage;
    }
    const auto count = parsePositive(parser.value(SnapshotCountOption));
    const auto batch = parsePositive(parser.value(SnapshotBatchOption));
    if (!count || !batch || *count > 1'000'000 || *batch > 100'000) {
        out.error(QStringLiteral("bench snapshot: --count and --batch take a positive integer"));
        return exitcode::Usage;
    }
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;

    lockscope::inspect::ScanOptions options;
    options.count = static_cast<int>(*count);
    options.batch = static_cast<int>(*batch);
    options.match = parser.values(SnapshotMatchOption);
    const lockscope::inspect::Scanner scanner(*nodes, lockscope::inspect::SchemaRegistry::builtins());

    const qint64 heapBefore = heapInUse();
    const qint64 rssBefore = residentBytes();
    const double cpuBefore = cpuSeconds();
    const Clock::time_point start = Clock::now();
    const lockscope::inspect::Snapshot snapshot = scanner.scan(options, 1);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpuSeconds() - cpuBefore;
    const qint64 heapAfter = heapInUse();
    const qint64 rssAfter = residentBytes();

    int code = exitcode::Ok;
    quint64 keysScanned = 0;
    for (const auto &node : snapshot.nodes) {
        keysScanned += node.keysScanned;
        if (!node.ok) {
            out.error(QStringLiteral("bench snapshot: %1").arg(node.error));
            code = exitcode::NodeFailure;
        }
    }
    const qint64 records = qint64(snapshot.records.size());
    qint64 decoded = 0;
    for (const auto &record : snapshot.records)
        decoded += record.schema.isEmpty() ? 0 : 1;
    const double heapPerRecord = records > 0 ? double(heapAfter - heapBefore) / double(records) : 0;
    const double rssPerRecord = records > 0 ? double(rssAfter - rssBefore) / double(records) : 0;

    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray nodeNames;
        for (const NodeConfig &node : *nodes)
            nodeNames.append(node.label());
        out.json(QJsonObject{
            {QStringLiteral("benchmark"), QStringLiteral("snapshot")},
            {QStringLiteral("nodes"), nodeNames},
            {QStringLiteral("count"), options.count},
            {QStringLiteral("batch"), options.batch},
            {QStringLiteral("seconds"), seconds},
            {QStringLiteral("client_cpu_seconds"), cpu},
            {QStringLiteral("keys_scanned"), qint64(keysScanned)},
            {QStringLiteral("records"), records},
            {QStringLiteral("decoded"), decoded},
            {QStringLiteral("heap_bytes"), heapAfter - heapBefore},
            {QStringLiteral("heap_bytes_per_record"), heapPerRecord},
            {QStringLiteral("rss_bytes"), rssAfter - rssBefore},
            {QStringLiteral("rss_bytes_per_record"), rssPerRecord},
        });
        return code;
    }
    Table table({QStringLiteral("METRIC"), QStringLiteral("VALUE")});
    table.addRow({QStringLiteral("nodes"), QString::number(nodes->size())});
    table.addRow({QStringLiteral("elapsed"), QStringLiteral("%1 s").arg(seconds, 0, 'f', 3)});
    table.addRow({QStringLiteral("client CPU"), QStringLiteral("%1 s").arg(cpu, 0, 'f', 3)});
    table.addRow({QStringLiteral("keys scanned"), QString::number(keysScanned)});
    table.addRow({QStringLiteral("records"), QString::number(records)});
    table.addRow({QStringLiteral("decoded"), QString::number(decoded)});
    table.addRow({QStringLiteral("heap per record"), QStringLiteral("%1 B").arg(heapPerRecord, 0, 'f', 0)});
    table.addRow({QStringLiteral("RSS per record"), QStringLiteral("%1 B").arg(rssPerRecord, 0, 'f', 0)});
    out.write(table.render());
    return code;
}

const std::vector<Subcommand> &subcommands()
{
    static const std::vector<Subcommand> list{
        {QStringLiteral("lock"),
         QStringLiteral("try-acquire + release cycles: LockScope vs a bare hiredis loop (the default)"),
         benchLockHelp(), runBenchLock},
        {QStringLiteral("ping"), QStringLiteral("PING round trips of one client on one connection"),
         benchPingHelp(), runBenchPing},
        {QStringLiteral("snapshot"),
         QStringLiteral("one full inspector snapshot of a node group: seconds and memory per record"),
         benchSnapshotHelp(), runBenchSnapshot},
    };
    return list;
}

QString benchHelp()
{
    QString text = QStringLiteral("Usage: lockctl bench [<benchmark>] [options]\n\n"
                                  "Client-side benchmarks against live nodes. Without a benchmark name\n"
                                  "(options first), 'lock' runs.\n\nBenchmarks:\n");
    for (const Subcommand &sub : subcommands())
        text += QStringLiteral("  %1  %2\n").arg(sub.name.leftJustified(8), sub.summary);
    text += QStringLiteral("\nRun 'lockctl bench <benchmark> --help' for its options.\n");
    for (const Subcommand &sub : subcommands())
        text += QLatin1Char('\n') + sub.help;
    return text;
}

int runBench(Invocation &invocation)
{
    Output &out = invocation.out;
    if (invocation.args.isEmpty()) {
        out.error(QStringLiteral("bench: no benchmark given (see 'lockctl help bench')"));
        return exitcode::Usage;
    }
    const QString name = invocation.args.front();
    if (name == QLatin1String("-h") || name == QLatin1String("--help")) {
        out.write(benchHelp());
        return exitcode::Ok;
    }
    // `lockctl bench --nodes ...` is `lockctl bench lock --nodes ...`.
    if (name.startsWith(QLatin1Char('-')))
        return runBenchLock(invocation);
    const auto found = std::ranges::find(subcommands(), name, &Subcommand::name);
    if (found == subcommands().end()) {
        out.error(QStringLiteral("bench: unknown benchmark '%1' (see 'lockctl help bench')").arg(name));
        return exitcode::Usage;
    }
    Invocation sub{invocation.args.mid(1), out};
    return found->run(sub);
}

} // namespace

Command benchCommand()
{
    return Command{
        .name = QStringLiteral("bench"),
        .summary = QStringLiteral(
            "Benchmarks: lock cycles vs bare hiredis ('bench lock'), PING, inspector snapshot"),
        .help = benchHelp(),
        .run = runBench,
    };
}

} // namespace lockctl
