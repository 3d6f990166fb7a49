#pragma once

// Lock records as the scanner would produce them, for pure UI tests and screenshots: values in
// the real formats of LockScope, Redisson, ShedLock, redis-py, go-redsync, node-redlock,
// python-redis-lock and bsm/redislock, decoded by the built-in schemas and aggregated by
// inspect::aggregate.

#include "inspect/lockrecord.h"

#include <QDateTime>
#include <QStringList>
#include <utility>
#include <vector>

namespace samplelocks {

using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::RawEntry;

RawEntry stringRaw(const QByteArray &value, qint64 pttlMs);
RawEntry hashRaw(std::vector<std::pair<QByteArray, QByteArray>> fields, qint64 pttlMs);

/// A node holding `raw` under `key`, decoded with the built-in schemas.
NodeEntry held(const QString &node, const QByteArray &key, const RawEntry &raw);
NodeEntry missing(const QString &node);
NodeEntry unreachable(const QString &node, const QString &error);

/// The same value on every node of `nodes`.
LockRecord heldOn(const QByteArray &key, const RawEntry &raw, const QStringList &nodes);

/// A LockScope value ("ls1 tok=... fence=... host=... at=... label=...").
QByteArray lockscopeValue(const QByteArray &token, qint64 fence, const QString &host, qint64 pid,
                          const QString &thread, const QString &label, const QDateTime &acquiredAt);
/// A 22-character token derived from `seed` (stable across runs).
QByteArray token(const QByteArray &seed);

/// One holder of a LockScope read/write lock or semaphore: the member LockScope's scripts write.
struct KindHolder
{
    QByteArray seed; ///< token(seed) is its token
    QString host;
    qint64 ttlMs = 30'000; ///< its own deadline: the server time plus this
    char mode = 'r';       ///< 'r' reader, 'w' writer; ignored for a semaphore
};
/// A sorted set as LockScope's read/write locks (`permits` 0) and semaphores (`permits` N) keep
/// their holders: member = the holder's value, score = its deadline in server-time ms, read at
/// server time `serverMs`; the key's PTTL is the longest holder's.
RawEntry kindRaw(const std::vector<KindHolder> &holders, int permits = 0,
                 qint64 serverMs = 1'764'000'000'000);

/// About 25 locks of a 3-node Redlock group (`nodes`), several schemas, with every anomaly
/// aggregate() finds: quorum lost, tokens differ, node unreachable, no TTL, undecoded.
std::vector<LockRecord> redlockGroup(const QStringList &nodes);
/// About 8 locks of a single node: Redisson, ShedLock, redis-py, python-redis-lock.
std::vector<LockRecord> singleNode(const QString &node);

/// Sets the steady-clock read time of every record (for a fake countdown clock).
void setReadAt(std::vector<LockRecord> &records, std::chrono::steady_clock::time_point at);

} // namespace samplelocks
