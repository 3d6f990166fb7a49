#include "benchcommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QJsonObject>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <redis/connection.h>
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

const std::vector<Subcommand> &subcommands()
{
    static const std::vector<Subcommand> list{
        {QStringLiteral("ping"), QStringLiteral("PING round trips of one client on one connection"),
         benchPingHelp(), runBenchPing},
    };
    return list;
}

QString benchHelp()
{
    QString text = QStringLiteral("Usage: lockctl bench <benchmark> [options] URL\n\n"
                                  "Client-side benchmarks against a live node.\n\nBenchmarks:\n");
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
        .summary = QStringLiteral("Benchmarks: 'bench ping' times PING round trips of one client"),
        .help = benchHelp(),
        .run = runBench,
    };
}

} // namespace lockctl
