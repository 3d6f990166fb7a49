#pragma once

#include "redis/nodeconfig.h"

#include <QByteArray>
#include <QString>

#include <chrono>
#include <vector>

namespace lockscope::bench {

struct LockBenchOptions
{
    std::vector<redis::NodeConfig> nodes;
    int clients = 1;                          ///< threads, each cycling on its own key
    std::chrono::milliseconds duration{5000};
    std::chrono::milliseconds ttl{10'000};
    QByteArray keyPrefix = "lockscope:bench:";
    bool fencing = true; ///< LockScope run: acquire with fencing tokens (Lua) or plain SET NX PX
};

struct LockBenchResult
{
    QString name;        ///< "lockscope", "lockscope-nofence" or "bare-hiredis"
    int nodes = 0;
    int clients = 0;
    quint64 cycles = 0;  ///< successful acquire + release cycles
    quint64 failures = 0;
    double seconds = 0;
    double cyclesPerSec = 0;
    double p50Us = 0;    ///< per cycle (acquire + release), from a full histogram
    double p99Us = 0;
    double maxUs = 0;
    QString error;       ///< set when the run could not start (node down, ...)
};

/// try-acquire + release cycles with LockScope's Locker (Redlock when several nodes).
LockBenchResult runLockScope(const LockBenchOptions &options);

/// The reference: a bare blocking hiredis loop with no library, sending exactly
/// `SET key token NX PX ttl` then `EVALSHA <compare-and-delete> 1 key token`; with several
/// nodes it writes each command to all nodes before reading any reply (one round trip). Plain
/// TCP only (Debian's hiredis 0.14 has no TLS); unix sockets work too.
LockBenchResult runBareHiredis(const LockBenchOptions &options);

} // namespace lockscope::bench
