#pragma once

#include "redis/script.h"

namespace lockscope::lock::scripts {

// Every owner check compares the value's prefix "ls1 tok=<token> " (ARGV[1]), so that a
// handoff needs only the token, and a value written by another owner or library never matches.
//
// A mutex is a string key holding the owner's value. A read/write lock or a counting semaphore
// is a sorted set: one member per holder (its value, with "rw=r", "rw=w" or "permits=N"),
// scored with the holder's deadline in the server's Unix milliseconds (TIME), so that each
// holder expires on its own; the key's own TTL follows its latest holder. Expired members are
// dropped by the next write. Release, undo, extend, pttl and the fence raise work on either
// shape (a GET that fails with WRONGTYPE takes the sorted-set path), so a handle made from a
// token needs no kind.
//
// Every acquire's grant {1, fence, ttl, change, holds, before, at}: change 1 = created, 2 =
// re-entered (reentrant), 0 = refreshed (the token held it before the call); holds = the
// reentrant hold count (else 0). `before` is what the token's holding expired at before this
// script (server Unix ms; -1 = never, -2 = nothing there: created), `at` the expiry it set
// (0 when created): a failed call puts a refresh back with restoreAcquire.
//
// "legacy counter" below: the name an older LockScope gave the fence counter
// (Locker::Private::legacyFenceKey; "" = none). The counter that does not exist yet starts
// from it; it is an argument, not in KEYS, read with redis.pcall (same slot as the counter).

/// KEYS: lock, fence counter. ARGV: owner prefix, ttl ms, value tail, fencing "1"|"0", legacy
/// counter. Free: INCR the fence, SET prefix.."fence="..n..tail PX ttl -> {1, fence, ttl, 1 (created),
/// 0, -2, 0} (without fencing: SET prefix..tail -> {1, 0, ttl, 1, 0, -2, 0}).
/// Ours already (same token): PEXPIREAT now + ttl -> {1, stored fence, ttl, 0 (refreshed), 0,
/// previous expiry, new expiry}.
/// Foreign: {0, pttl}.
const redis::Script &acquire();
/// KEYS: lock, fence counter. ARGV: owner prefix (of the owner id), ttl ms, value tail (with
/// " cnt=1" and the call mark), fencing "1"|"0", call mark " call=<id>", legacy counter. A
/// reentrant lock: a
/// string value with a hold count "cnt=N". Free: as acquire -> {1, fence, ttl, 1, 1, -2, 0}.
/// Ours: cnt + 1, the call mark replaced by this call's, TTL set to ttl -> {1, fence, ttl, 2,
/// holds, previous expiry, new expiry}.
/// Ours without a count (a plain mutex of the same token) -> {-2, 6, 0}. Foreign: {0, pttl}.
const redis::Script &acquireReentrant();
/// KEYS: lock, fence counter. ARGV: owner prefix, fence, legacy counter. Redlock fencing, after
/// a quorum:
/// raises the counter to at least the lock's fence (never lowers it), and when the key is
/// still ours rewrites the value's fence= field to the lock's fence if it is lower (same
/// expiry, rest of the value unchanged). Ours -> 1 (the counter and our value carry the
/// fence); not ours any more (expired, expiring this millisecond, taken over) -> 0 (the
/// counter is raised all the same). Never leaves a key without the expiry it had.
const redis::Script &raiseFence();
/// KEYS: lock (or the keys of a multi-key lock). ARGV: owner prefix, call mark ("" or
/// " call=<id>", or a whole value). Returns how many keys it undid.
/// The undo of a failed or timed-out acquire: deletes the key when it holds our token and,
/// with a mark, only when the value carries it (a key this call created, not one the same
/// token held before the call) -> 1; otherwise 0. Never publishes: an undo is no release.
/// A reentrant value held more than once is decremented instead (the re-entry this call
/// made), keeping its TTL; a sorted set loses our member.
const redis::Script &undoAcquire();
/// KEYS: lock (or the keys of a multi-key lock). ARGV: owner prefix, "before:at" per key
/// (separated by spaces; the acquire's reply fields). The undo of a failed call's refresh: a
/// key the caller's token held before the call must not keep the TTL the failed call gave it.
/// Where the key (its member, for a sorted set) is still ours with exactly the expiry `at`
/// that the acquire set (our own later extend, a new holder or another owner all change it),
/// its expiry goes back to `before` (a sorted set's member score; the key's expiry then
/// follows its latest member again, so never below what another holder needs; a `before` in
/// the past removes the member / lets the key expire). Keys with before -2 (created: the
/// undo's job) are skipped. Returns how many keys it put back. Never publishes.
const redis::Script &restoreAcquire();
/// KEYS: lock. ARGV: owner prefix. Ours: DEL (our member: ZREM) -> 1; a reentrant value held
/// more than once: its count decremented, TTL kept -> 2 (still held). Foreign: 0. Absent (or
/// our member already past its deadline): -1.
const redis::Script &release();
/// KEYS: lock, then optionally the wake-up queue and its deadlines (waitQueueKeysFor). Same
/// as release, and when it deleted the key also PUBLISHes on the channel ARGV[3]
/// (releaseChannelFor), so that waiters subscribed to it retry at once: the token (ARGV[2]),
/// followed by a space and the id of the queue's first waiter when there is one (expired
/// places dropped first) -> {1, that id or ""}; the other replies as release. A message that
/// names a waiter "<hub>.<n>.x" (not a reader) goes to ARGV[3] .. "." .. hub instead, the
/// channel only that waiter's Locker listens on. With ARGV[6..11] and KEYS[4] (the fence
/// counter), a direct hand-over: when the queue's first waiter is ARGV[6] and the key is gone,
/// the lock is set for it (owner prefix ARGV[7], tail ARGV[8], TTL ARGV[9], fenced from KEYS[4]
/// when ARGV[10] is "1", legacy counter ARGV[11]), its place leaves the queue, nothing is
/// published -> {1, id, 2, fence, ttl}.
const redis::Script &releaseAndPublish();
/// KEYS: lock, fence counter. ARGV: owner prefix, ms, "add"|"set", heal value ("" = no heal),
/// heal fence, legacy counter, minimum PTTL ("0" = none). Ours: PEXPIRE (ms, or PTTL + ms) -> {1, new ttl};
/// but when the key's PTTL is already below the minimum -> {3, pttl}, nothing changed: the
/// extend runs later than its sender allowed (a stalled server resuming), and a late extend
/// must not revive a lock its owner has been told it lost. Foreign: {0, pttl}.
/// Absent: heal -> SET value PX ms and raise the fence counter to the heal fence -> {2, ms};
/// otherwise {-1, 0}.
const redis::Script &extend();
/// KEYS: lock. ARGV: owner prefix. Ours: {1, pttl}. Foreign: {0, pttl}. Absent: {-1, -2}.
/// (A sorted set: our holder's remaining ms; foreign = another holder's, the soonest.)
const redis::Script &pttl();
/// KEYS: lock. ARGV: owner prefix. Our value (the string, or our member of a sorted set), or nil.
const redis::Script &ownValue();
/// KEYS: lock, fence counter, writer intent. ARGV: owner prefix, ttl ms, value tail, fencing
/// "1"|"0", kind "r"|"w"|"s", permits, writer intent ms ("0" = none), legacy counter.
/// The acquire of a read/write lock holder or a semaphore permit; expired holders are dropped
/// first. Ours already: refresh -> {1, fence, ttl, 0, 0, our member's previous score (-1 =
/// +inf), its new score}. Granted: add our member (fence from the counter) -> {1, fence, ttl, 1,
/// 0, -2, 0}; a writer deletes its own intent. Refused -> {0, pttl of the soonest blocker,
/// blocker, other holders}, blocker 1 = a writer holds it, 2 = readers hold
/// it, 3 = a writer waits (its intent key exists: no new readers), 4 = all permits taken; a
/// refused writer with intent ms > 0 sets (or refreshes) its intent, unless another writer's
/// is there. The key is another kind -> {-2, why, n[, type]}: 1 = not a semaphore, 2 = a
/// semaphore of n permits, 3 = not a read/write lock (a semaphore of n permits when n > 0),
/// 4 = this token holds it in the other mode, 5 = another data type.
const redis::Script &acquireHolder();

/// KEYS: lock, fence counter, queue, queue deadlines. ARGV: owner prefix, ttl ms, value tail,
/// fencing "1"|"0", waiter ms ("0" = do not queue), arrival (client Unix µs), legacy counter.
/// A fair lock: the
/// lock is a mutex string; waiters queue in a sorted set scored by their arrival (the client's
/// time, taken once per blocking acquire, so that every node of a Redlock set orders the same
/// waiters the same way), each with its own deadline in the second sorted set (a waiter that
/// stops asking drops out when it passes). Expired waiters are dropped first. Ours: refresh,
/// leave the queue -> {1, fence, ttl, 0, 0, previous expiry, new expiry}. Free and nobody
/// queued ahead of us: take it -> {1, fence, ttl, 1, 0, -2, 0}; our place in the queue stays
/// (a grant on too few nodes is undone, and the place must survive that): the caller leaves the
/// queue when its acquire ends (leaveQueue). Otherwise, with waiter ms > 0, join the queue (or
/// renew our place's deadline) -> {0, holder's pttl (0 when free), 5, waiters ahead of us}.
const redis::Script &acquireFair();
/// The acquires above with the wake-up queue of a blocking acquire (LockerOptions::
/// wakeOnRelease). KEYS: as the plain script, then the waiters (a sorted set of waiter ids by
/// arrival, client Unix µs) and their deadlines (server Unix ms), both named by
/// waitQueueKeysFor(). ARGV: as the plain script, then the waiter id ("" = the caller does not
/// join: a tryAcquire), its place's lifetime in ms, its arrival, "1" when the queue's order
/// binds (an exclusive kind: mutex, reentrant, write) and the hand-off threshold in ms.
/// Expired places are dropped first. When the lock is free and the order binds: a waiter
/// behind another in the queue may not take it (the first was woken by the release), and a
/// caller not in the queue may take it only while the first waiter has waited less than the
/// threshold -> {0, -2, 6, waiters ahead}. Otherwise the plain script runs; a grant takes the
/// waiter out of the queue, a refusal puts it in (keeping its place when it is there already)
/// with a deadline of now + lifetime. Both keys expire with their last deadline.
const redis::Script &acquireQueued();
const redis::Script &acquireReentrantQueued();
const redis::Script &acquireHolderQueued();
const redis::Script &acquireFairQueued();
/// KEYS: queue, queue deadlines. ARGV: owner prefix. Removes our place in a fair lock's queue
/// -> how many entries it removed.
const redis::Script &leaveQueue();

// Multi-key locks: one owner takes several mutex keys at once, all or none, in one script per
// node (atomic there, so two overlapping sets can never each hold part of the other's keys).

/// KEYS: k1..kn, then their fence counters f1..fn. ARGV: owner prefix, ttl ms, value tail,
/// fencing "1"|"0", then each key's legacy counter. Any key held by another owner -> {0, its
/// pttl, its index}, nothing changed. Otherwise every key is ours: new ones SET (fence from their
/// own counter), ones we held already get the TTL -> {1, fence of k1, ttl, 1 if any key was
/// created else 0, 0, fence of k1, ..., fence of kn, before of k1, ..., before of kn, at of k1,
/// ..., at of kn} (before and at as for the other acquires: -2 and 0 for a key this call
/// created).
const redis::Script &acquireMany();
/// KEYS: the lock's keys. ARGV: owner prefix, token, unused, then one release channel per key
/// (none: no PUBLISH). Deletes every key that is ours -> 1 when all were ours, 0 when some
/// other owner holds one, -1 when none is there.
const redis::Script &releaseMany();
/// KEYS: the lock's keys. ARGV: owner prefix, ms, "add"|"set", minimum PTTL. Every key ours
/// and none below the minimum: each gets the TTL (ms, or the shortest PTTL + ms) -> {1, ms}.
/// A key below the minimum (a late extend) -> {3, pttl}; a foreign key -> {0, pttl}; a missing
/// key -> {-1, 0}; nothing changed in those cases.
const redis::Script &extendMany();
/// KEYS: the lock's keys. ARGV: owner prefix. All ours -> {1, shortest pttl}; a foreign key ->
/// {0, pttl}; a missing key -> {-1, -2}.
const redis::Script &pttlMany();

} // namespace lockscope::lock::scripts
