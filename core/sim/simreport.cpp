#include "simreport.h"

#include "util/duration.h"

#include <QJsonArray>

namespace lockscope::sim {

namespace {

qint64 n(quint64 value)
{
    return static_cast<qint64>(value);
}

QJsonObject configJson(const SimReport &report)
{
    const SimConfig &c = report.config;
    QJsonArray nodes;
    for (const auto &node : c.nodes)
        nodes.append(node.label());
    QJsonObject retry{
        {QStringLiteral("kind"), c.retry.kind == lock::RetryStrategy::Kind::None ? QStringLiteral("none")
                                 : c.retry.kind == lock::RetryStrategy::Kind::Linear
                                     ? QStringLiteral("linear")
                                     : QStringLiteral("exponential")},
        {QStringLiteral("delay_ms"), static_cast<qint64>(c.retry.delay.count())},
        {QStringLiteral("max_delay_ms"), static_cast<qint64>(c.retry.maxDelay.count())},
        {QStringLiteral("jitter"), c.retry.jitter},
        {QStringLiteral("max_tries"), c.retry.maxTries},
    };
    QJsonObject drift;
    for (const auto &[worker, rate] : c.clockRate)
        drift.insert(QString::number(worker), rate);
    QJsonObject json{
        {QStringLiteral("scenario"), c.scenario},
        {QStringLiteral("nodes"), nodes},
        {QStringLiteral("algorithm"),
         c.nodes.size() > 1 ? QStringLiteral("redlock") : QStringLiteral("single")},
        {QStringLiteral("workers"), c.workers},
        {QStringLiteral("processes"), c.processes},
        {QStringLiteral("keys"), c.keys},
        {QStringLiteral("key_prefix"), QString::fromUtf8(report.keyPrefix)},
        {QStringLiteral("hold_us"), static_cast<qint64>(c.hold.count())},
        {QStringLiteral("hold_distribution"), holdDistributionName(c.holdDistribution)},
        {QStringLiteral("ttl_ms"), static_cast<qint64>(c.ttl.count())},
        {QStringLiteral("retry"), retry},
        {QStringLiteral("wait_ms"), static_cast<qint64>(c.wait.count())},
        {QStringLiteral("watchdog"), c.watchdog},
        {QStringLiteral("fencing"), c.fencing},
        {QStringLiteral("wakeup"), wakeupName(c.wakeup)},
        {QStringLiteral("hand_off_after_ms"), static_cast<qint64>(c.handOffAfter.count())},
        {QStringLiteral("breaker"), c.breaker},
        {QStringLiteral("degraded_mode"), c.degraded},
        {QStringLiteral("check_validity"), c.checkValidity},
        {QStringLiteral("duration_ms"), static_cast<qint64>(c.duration.count())},
        {QStringLiteral("max_acquisitions"), c.maxAcquisitions},
        {QStringLiteral("stall_ms"), static_cast<qint64>(c.stall.count())},
        {QStringLiteral("stall_every"), c.stallEvery},
        {QStringLiteral("clock_drift"), drift},
        {QStringLiteral("seed"), QString::number(c.seed)},
        {QStringLiteral("kind"), simLockKindName(c.lockKind)},
    };
    if (c.lockKind == SimLockKind::ReadWrite)
        json.insert(QStringLiteral("read_ratio"), c.effectiveReadRatio());
    if (c.lockKind == SimLockKind::Semaphore)
        json.insert(QStringLiteral("permits"), c.permits);
    return json;
}

} // namespace

QJsonObject reportToJson(const SimReport &report)
{
    const SimStats &s = report.stats;
    QJsonArray workers;
    for (const WorkerStats &w : s.workers) {
        workers.append(QJsonObject{
            {QStringLiteral("worker"), w.worker},
            {QStringLiteral("acquisitions"), n(w.acquisitions)},
            {QStringLiteral("failed_attempts"), n(w.failedAttempts)},
            {QStringLiteral("acquire_failures"), n(w.acquireFailures)},
            {QStringLiteral("censored_waits"), n(w.censoredWaits)},
            {QStringLiteral("wait_max_us"), n(w.waitMaxUs)},
            {QStringLiteral("violations"), n(w.violations)},
            {QStringLiteral("fencing_rejections"), n(w.fencingRejections)},
            {QStringLiteral("abandoned_writes"), n(w.abandonedWrites)},
            {QStringLiteral("lost_locks"), n(w.lostLocks)},
            {QStringLiteral("expired_before_release"), n(w.expiredBeforeRelease)},
            {QStringLiteral("stalls"), n(w.stalls)},
            {QStringLiteral("wakeups"), n(w.wakeups)},
            {QStringLiteral("handovers"), n(w.handovers)},
            {QStringLiteral("degraded_acquisitions"), n(w.degradedAcquisitions)},
            {QStringLiteral("degraded_writes"), n(w.degradedWrites)},
            {QStringLiteral("breaker_refusals"), n(w.breakerRefusals)},
            {QStringLiteral("breaker_opens"), n(w.breakerOpens)},
            {QStringLiteral("clock_rate"), w.clockRate},
        });
    }
    QJsonArray faults;
    for (const FaultRecord &f : report.faults) {
        faults.append(QJsonObject{
            {QStringLiteral("at_ms"), static_cast<double>(f.atUs) / 1000.0},
            {QStringLiteral("fault"), SimFault::kindName(f.fault.kind)},
            {QStringLiteral("target"), f.fault.target},
            {QStringLiteral("description"), f.fault.describe()},
            {QStringLiteral("ok"), f.ok},
            {QStringLiteral("message"), f.message},
        });
    }
    QJsonArray breakers;
    for (const BreakerRecord &b : report.breakers) {
        breakers.append(QJsonObject{
            {QStringLiteral("at_ms"), static_cast<double>(b.atUs) / 1000.0},
            {QStringLiteral("node"), b.node},
            {QStringLiteral("node_label"), b.event.node},
            {b.process ? QStringLiteral("process") : QStringLiteral("worker"), b.locker},
            {QStringLiteral("from"), redis::breakerStateName(b.event.from)},
            {QStringLiteral("to"), redis::breakerStateName(b.event.to)},
            {QStringLiteral("cause"), b.event.cause},
            {QStringLiteral("description"), b.describe()},
        });
    }
    QJsonArray overlaps;
    for (const Overlap &o : report.overlaps) {
        overlaps.append(QJsonObject{
            {QStringLiteral("key"), o.key},
            {QStringLiteral("first_worker"), o.firstWorker},
            {QStringLiteral("second_worker"), o.secondWorker},
            {QStringLiteral("first_start_us"), o.firstStartUs},
            {QStringLiteral("second_start_us"), o.secondStartUs},
            {QStringLiteral("first_fence"), o.firstFence},
            {QStringLiteral("second_fence"), o.secondFence},
        });
    }
    QJsonArray registers;
    for (size_t k = 0; k < report.registers.size(); ++k) {
        const auto &r = report.registers[k];
        registers.append(QJsonObject{
            {QStringLiteral("key"), static_cast<qint64>(k)},
            {QStringLiteral("value"), r.value},
            {QStringLiteral("accepted_writes"), n(r.acceptedWrites)},
            {QStringLiteral("violations"), n(r.violations)},
            {QStringLiteral("fencing_rejections"), n(r.fencingRejections)},
            {QStringLiteral("overlaps"), n(r.overlaps)},
            {QStringLiteral("reader_overlaps"), n(r.readerOverlaps)},
            {QStringLiteral("reads"), n(r.reads)},
            {QStringLiteral("max_holders"), r.maxHolders},
            {QStringLiteral("order_violations"), n(r.orderViolations)},
            {QStringLiteral("degraded_writes"), n(r.degradedWrites)},
            {QStringLiteral("highest_fence"), r.highestFence},
        });
    }
    QJsonArray series;
    for (const ThroughputSample &t : report.samples) {
        series.append(QJsonObject{
            {QStringLiteral("t_s"), t.seconds},
            {QStringLiteral("acquisitions"), n(t.acquisitions)},
            {QStringLiteral("failed_attempts"), n(t.failedAttempts)},
            {QStringLiteral("violations"), n(t.violations)},
            {QStringLiteral("acquisitions_per_s"), t.acquisitionsPerSec},
            {QStringLiteral("failed_attempts_per_s"), t.failedAttemptsPerSec},
        });
    }
    QJsonArray waitHistogram;
    for (const quint64 count : s.waitLog2Us)
        waitHistogram.append(n(count));
    return QJsonObject{
        {QStringLiteral("state"), simStateName(s.state)},
        {QStringLiteral("kind"), simLockKindName(report.config.lockKind)},
        {QStringLiteral("started_at"), report.startedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("seconds"), s.elapsedSeconds},
        {QStringLiteral("acquisitions"), n(s.acquisitions)},
        {QStringLiteral("acquisitions_per_s"), s.meanAcquisitionsPerSec},
        {QStringLiteral("failed_attempts"), n(s.failedAttempts)},
        {QStringLiteral("failed_attempts_per_s"),
         s.elapsedSeconds > 0 ? static_cast<double>(s.failedAttempts) / s.elapsedSeconds : 0.0},
        {QStringLiteral("acquire_failures"), n(s.acquireFailures)},
        {QStringLiteral("violations"), n(s.violations)},
        {QStringLiteral("fencing_rejections"), n(s.fencingRejections)},
        {QStringLiteral("overlaps"), n(s.overlaps)},
        {QStringLiteral("reader_overlaps"), n(s.readerOverlaps)},
        {QStringLiteral("reads"), n(s.reads)},
        {QStringLiteral("max_holders"), s.maxHolders},
        {QStringLiteral("order_violations"), n(s.orderViolations)},
        {QStringLiteral("reentries"), n(s.reentries)},
        {QStringLiteral("lost_locks"), n(s.lostLocks)},
        {QStringLiteral("expired_before_release"), n(s.expiredBeforeRelease)},
        {QStringLiteral("release_errors"), n(s.releaseErrors)},
        {QStringLiteral("accepted_writes"), n(s.acceptedWrites)},
        {QStringLiteral("abandoned_writes"), n(s.abandonedWrites)},
        {QStringLiteral("stalls"), n(s.stalls)},
        {QStringLiteral("wakeups"), n(s.wakeups)},
        {QStringLiteral("handovers"), n(s.handovers)},
        {QStringLiteral("breaker"), report.config.breaker},
        {QStringLiteral("degraded_mode"), report.config.degraded},
        {QStringLiteral("degraded_acquisitions"), n(s.degradedAcquisitions)},
        {QStringLiteral("degraded_writes"), n(s.degradedWrites)},
        {QStringLiteral("breaker_refusals"), n(s.breakerRefusals)},
        {QStringLiteral("breaker_opens"), n(s.breakerOpens)},
        {QStringLiteral("wait_p50_us"), n(s.waitP50Us)},
        {QStringLiteral("wait_p95_us"), n(s.waitP95Us)},
        {QStringLiteral("wait_p99_us"), n(s.waitP99Us)},
        {QStringLiteral("wait_max_us"), n(s.waitMaxUs)},
        {QStringLiteral("wait_mean_us"), s.waitMeanUs},
        {QStringLiteral("censored_waits"), n(s.censoredWaits)},
        {QStringLiteral("wait_histogram_log2_us"), waitHistogram},
        {QStringLiteral("hold_p50_us"), n(s.holdP50Us)},
        {QStringLiteral("hold_p95_us"), n(s.holdP95Us)},
        {QStringLiteral("hold_p99_us"), n(s.holdP99Us)},
        {QStringLiteral("hold_max_us"), n(s.holdMaxUs)},
        {QStringLiteral("hold_mean_us"), s.holdMeanUs},
        {QStringLiteral("fairness"), s.fairness},
        {QStringLiteral("keys_left"), n(s.keysLeft)},
        {QStringLiteral("events_dropped"), n(report.eventsDropped)},
        {QStringLiteral("workers"), workers},
        {QStringLiteral("config"), configJson(report)},
        {QStringLiteral("faults"), faults},
        {QStringLiteral("breaker_transitions"), breakers},
        {QStringLiteral("overlap_samples"), overlaps},
        {QStringLiteral("registers"), registers},
        {QStringLiteral("series"), series},
    };
}

QByteArray eventsToCsv(const std::vector<SectionEvent> &events)
{
    QByteArray csv =
        "seq,worker,key,request_us,start_us,end_us,wait_us,hold_us,fence,outcome,overlapped,stalled,lost,"
        "read\n";
    csv.reserve(csv.size() + static_cast<qsizetype>(events.size()) * 64);
    for (const SectionEvent &e : events) {
        csv += QByteArray::number(e.seq) + ',' + QByteArray::number(e.worker) + ',' +
               QByteArray::number(e.key) + ',' + QByteArray::number(e.requestUs) + ',' +
               QByteArray::number(e.startUs) + ',' + QByteArray::number(e.endUs) + ',' +
               QByteArray::number(e.startUs - e.requestUs) + ',' + QByteArray::number(e.endUs - e.startUs) +
               ',' + QByteArray::number(e.fence) + ',' + SectionEvent::outcomeName(e.outcome).toLatin1() +
               ',' + (e.overlapped ? "1" : "0") + ',' + (e.stalled ? "1" : "0") + ',' + (e.lost ? "1" : "0") +
               ',' + (e.read ? "1" : "0") + '\n';
    }
    return csv;
}

QByteArray workersToCsv(const SimStats &stats)
{
    QByteArray csv =
        "worker,acquisitions,failed_attempts,acquire_failures,censored_waits,wait_max_us,violations,"
        "fencing_rejections,abandoned_writes,lost_locks,expired_before_release,stalls,wakeups,"
        "clock_rate\n";
    for (const WorkerStats &w : stats.workers) {
        csv += QByteArray::number(w.worker) + ',' + QByteArray::number(w.acquisitions) + ',' +
               QByteArray::number(w.failedAttempts) + ',' + QByteArray::number(w.acquireFailures) + ',' +
               QByteArray::number(w.censoredWaits) + ',' + QByteArray::number(w.waitMaxUs) + ',' +
               QByteArray::number(w.violations) + ',' + QByteArray::number(w.fencingRejections) + ',' +
               QByteArray::number(w.abandonedWrites) + ',' + QByteArray::number(w.lostLocks) + ',' +
               QByteArray::number(w.expiredBeforeRelease) + ',' + QByteArray::number(w.stalls) + ',' +
               QByteArray::number(w.wakeups) + ',' + QByteArray::number(w.clockRate) + '\n';
    }
    return csv;
}

} // namespace lockscope::sim
