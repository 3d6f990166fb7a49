#pragma once

#include "simulation.h"

#include <QByteArray>
#include <QJsonObject>

namespace lockscope::sim {

/// The run as JSON: the figures at the top level (kind, acquisitions, violations,
/// fencing_rejections, failed_attempts, wait_p50_us, wait_p99_us, censored_waits, overlaps,
/// reader_overlaps, reads, max_holders, order_violations, reentries, lost_locks, fairness, breaker,
/// degraded_mode, degraded_acquisitions, degraded_writes, breaker_refusals, breaker_opens, ...), then
/// `workers` (per-worker counts, with censored_waits and wait_max_us), `config`, `faults`,
/// `breaker_transitions` (time, node, worker or process, from, to, cause), `overlap_samples`,
/// `registers` and `series` (throughput over time). The wait figures include the censored waits: acquires
/// that ended without the lock (cut by the end of the run, or given up) count up to that moment, so a worker
/// starved for the whole run shows a wait as long as the run. Used by `lockctl simulate --json` and the GUI's
/// export.
QJsonObject reportToJson(const SimReport &report);

/// Critical sections as CSV, one row each, with a header:
/// seq,worker,key,request_us,start_us,end_us,wait_us,hold_us,fence,outcome,overlapped,stalled,lost,read
QByteArray eventsToCsv(const std::vector<SectionEvent> &events);

/// Per-worker counts as CSV, with a header.
QByteArray workersToCsv(const SimStats &stats);

} // namespace lockscope::sim
