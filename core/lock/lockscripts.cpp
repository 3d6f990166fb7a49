#include "lockscripts.h"

namespace lockscope::lock::scripts {

namespace {

// Lua helpers for the kinds whose holders live in a sorted set (read/write lock, counting
// semaphore): members are holder values ("ls1 tok=<token> fence=.. rw=r ..."), each scored
// with its holder's deadline in the server's Unix milliseconds; the key itself expires with
// its latest holder. Prepended to every script that may meet such a key.
constexpr const char *kHolderLua = R"lua(
local function ls_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ls_score(s)
  return tonumber(s) or math.huge
end
local function ls_expiretime(k, now)
  local at = redis.pcall('PEXPIRETIME', k)
  if type(at) == 'number' then return at end
  local p = redis.call('PTTL', k)
  if p < 0 then return p end
  return now + p
end
local function ls_find(k, prefix)
  local all = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #prefix) == prefix then return all[i], ls_score(all[i + 1]) end
  end
  return nil
end
local function ls_expire(k, now)
  local last = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  if #last == 0 then return end
  local s = ls_score(last[2])
  if s == math.huge then redis.call('PERSIST', k) else redis.call('PEXPIRE', k, math.max(1, s - now)) end
end
local function ls_soonest(k, now)
  local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if #first == 0 then return -2 end
  local s = ls_score(first[2])
  if s == math.huge then return -1 end
  return math.max(0, s - now)
end
local function ls_holder(v)
  return string.find(v, ' rw=[rw]') ~= nil or string.find(v, ' permits=%d') ~= nil
end
-- The fence counter k; `legacy` (may be '') names the counter an older LockScope kept for the
-- same lock ("{<key>}.fence", same slot): a counter that does not exist yet starts from it, so
-- fences keep rising across the rename. Not a declared key: a user whose ACL allows only the
-- Locker's prefix may not read it (and so never wrote it); acl_check_cmd (Redis 7) asks without
-- an ACL LOG entry, pcall keeps a refusal on older servers from failing the acquire.
local function ls_legacy(legacy)
  if not legacy or legacy == '' then return nil end
  if redis.acl_check_cmd and not redis.acl_check_cmd('GET', legacy) then return nil end
  local old = redis.pcall('GET', legacy)
  if type(old) == 'string' and string.match(old, '^%d+$') and #old < 19 then return old end
  return nil
end
local function ls_incr(k, legacy)
  local f = redis.call('INCR', k)
  if f == 1 then
    local old = ls_legacy(legacy)
    if old then
      redis.call('SET', k, old)
      f = redis.call('INCR', k)
    end
  end
  return f
end
local function ls_counter(k, legacy)
  return tonumber(redis.call('GET', k) or ls_legacy(legacy) or '0') or 0
end
local function ls_fits(k, v)
  local all = redis.call('ZRANGE', k, 0, -1)
  local limit = tonumber(string.match(v, ' permits=(%d+)'))
  if limit then return #all < limit end
  if string.find(v, ' rw=w', 1, true) then return #all == 0 end
  for _, m in ipairs(all) do
    if string.find(m, ' rw=w', 1, true) then return false end
  end
  return true
end
)lua";

QByteArray withHolders(const char *body)
{
    return QByteArray(kHolderLua) + body;
}

// The wake-up queue of a blocking acquire (LockerOptions::wakeOnRelease): KEYS ends with the
// waiters (sorted by arrival, client Unix µs) and their deadlines (server Unix ms); ARGV ends
// with the waiter's id ("" = do not join), its place's lifetime in ms, its arrival, "1" when
// the kind is exclusive (only then does the queue's order bind), the hand-off threshold in ms,
// and the caller's clock now (Unix µs: the same on every node of a Redlock set, so that all
// of them decide alike).
//
// Before the acquire proper, when the lock is free: a waiter in the queue behind another may
// not take it (the release woke the first one, the lock is kept for it), and a caller not in
// the queue may take it only while the first waiter has waited less than the threshold (a
// newcomer may barge in, as with any mutex, but never starve a waiter). The first waiter's wait
// counts from the first release that named it (the deadlines hold "^<id>" at minus the
// releasing client's time in µs: negative, so never taken for a deadline), or from its arrival when no
// release named it yet (the lock expired). Refused -> {0, -2, 6, waiters ahead}. After it:
// granted -> the waiter leaves the queue; refused -> it joins (or keeps its place and renews
// its deadline). Expired places are dropped first.
constexpr const char *kQueueLua = R"lua(
local ls_wq, ls_wx = KEYS[#KEYS - 1], KEYS[#KEYS]
local ls_wid, ls_wlife = ARGV[#ARGV - 5], tonumber(ARGV[#ARGV - 4])
local ls_warrival, ls_wexcl, ls_wafter = ARGV[#ARGV - 3], ARGV[#ARGV - 2] == '1', tonumber(ARGV[#ARGV - 1])
local ls_wclient = tonumber(ARGV[#ARGV])
local ls_wt = redis.call('TIME')
local ls_wnow = tonumber(ls_wt[1]) * 1000 + math.floor(tonumber(ls_wt[2]) / 1000)
local function ls_wait_check()
  if redis.call('EXISTS', ls_wq) == 0 then return nil end -- nobody waits: the usual case
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', ls_wx, 0, ls_wnow)) do
    redis.call('ZREM', ls_wq, m)
    redis.call('ZREM', ls_wx, '^' .. m)
  end
  redis.call('ZREMRANGEBYSCORE', ls_wx, 0, ls_wnow)
  if not ls_wexcl or redis.call('EXISTS', KEYS[1]) == 1 then return nil end
  local head = redis.call('ZRANGE', ls_wq, 0, 0, 'WITHSCORES')
  if #head == 0 or head[1] == ls_wid then return nil end
  local rank = false
  if ls_wid ~= '' then rank = redis.call('ZRANK', ls_wq, ls_wid) end
  local named = redis.call('ZSCORE', ls_wx, '^' .. head[1])
  local waited = (ls_wclient - (named and -tonumber(named) or tonumber(head[2]))) / 1000
  if rank or waited >= ls_wafter then
    return {0, -2, 6, rank or redis.call('ZCARD', ls_wq)}
  end
  return nil
end
local function ls_wait_done(r)
  if ls_wid == '' or type(r) ~= 'table' then return r end
  if r[1] == 1 then
    redis.call('ZREM', ls_wq, ls_wid)
    redis.call('ZREM', ls_wx, ls_wid, '^' .. ls_wid)
  elseif r[1] == 0 then
    redis.call('ZADD', ls_wq, 'NX', ls_warrival, ls_wid)
    redis.call('ZADD', ls_wx, ls_wnow + ls_wlife, ls_wid)
    local last = redis.call('ZRANGE', ls_wx, -1, -1, 'WITHSCORES')
    local p = math.max(1, tonumber(last[2]) - ls_wnow)
    redis.call('PEXPIRE', ls_wx, p)
    redis.call('PEXPIRE', ls_wq, p)
  end
  return r
end
)lua";

QByteArray queued(const char *body)
{
    return QByteArray(kHolderLua) + kQueueLua + "local function ls_main()\n" + body +
           "\nend\nreturn ls_wait_done(ls_wait_check() or ls_main())\n";
}

constexpr const char *kAcquireLua = R"lua(
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    local now = ls_now()
    local before, at = ls_expiretime(KEYS[1], now), now + tonumber(ARGV[2])
    redis.call('PEXPIREAT', KEYS[1], at)
    return {1, tonumber(string.match(v, ' fence=(%d+)')) or 0, tonumber(ARGV[2]), 0, 0, before, at}
  end
  return {0, redis.call('PTTL', KEYS[1])}
end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[1] .. string.sub(ARGV[3], 2), 'PX', ARGV[2])
  return {1, 0, tonumber(ARGV[2]), 1, 0, -2, 0}
end
local f = ls_incr(KEYS[2], ARGV[5])
redis.call('SET', KEYS[1], ARGV[1] .. 'fence=' .. f .. ARGV[3], 'PX', ARGV[2])
return {1, f, tonumber(ARGV[2]), 1, 0, -2, 0}
)lua";

constexpr const char *kAcquireReentrantLua = R"lua(
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
  local n = tonumber(string.match(v, ' cnt=(%d+)'))
  if not n then return {-2, 6, 0} end
  local nv = string.gsub(string.gsub(v, ' cnt=%d+', ' cnt=' .. (n + 1), 1), ' call=[^ ]*', '', 1)
  local now = ls_now()
  local before, at = ls_expiretime(KEYS[1], now), now + tonumber(ARGV[2])
  redis.call('SET', KEYS[1], nv .. ARGV[5], 'PXAT', at)
  return {1, tonumber(string.match(v, ' fence=(%d+)')) or 0, tonumber(ARGV[2]), 2, n + 1, before, at}
end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[1] .. string.sub(ARGV[3], 2), 'PX', ARGV[2])
  return {1, 0, tonumber(ARGV[2]), 1, 1, -2, 0}
end
local f = ls_incr(KEYS[2], ARGV[6])
redis.call('SET', KEYS[1], ARGV[1] .. 'fence=' .. f .. ARGV[3], 'PX', ARGV[2])
return {1, f, tonumber(ARGV[2]), 1, 1, -2, 0}
)lua";

constexpr const char *kAcquireHolderLua = R"lua(
local k, prefix, ttl, kind = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[5]
local t = redis.call('TYPE', k)['ok']
if t ~= 'zset' and t ~= 'none' then
  return {-2, 5, 0, t}
end
local now = ls_now()
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
local all = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
local mine, mineScore, writer, others, soonest = nil, nil, false, 0, nil
for i = 1, #all, 2 do
  local m, s = all[i], ls_score(all[i + 1])
  local p = string.match(m, ' permits=(%d+)')
  local rw = string.match(m, ' rw=([rw])')
  if kind == 's' then
    if not p then return {-2, 1, 0} end
    if p ~= ARGV[6] then return {-2, 2, tonumber(p)} end
  elseif not rw then
    return {-2, 3, tonumber(p) or 0}
  end
  if string.sub(m, 1, #prefix) == prefix then
    if kind ~= 's' and rw ~= kind then return {-2, 4, 0} end
    mine, mineScore = m, s
  else
    others = others + 1
    if rw == 'w' then writer = true end
    if not soonest or s < soonest then soonest = s end
  end
end
if mine then
  local before = mineScore
  if before == math.huge then before = -1 end
  redis.call('ZADD', k, 'XX', now + ttl, mine)
  ls_expire(k, now)
  return {1, tonumber(string.match(mine, ' fence=(%d+)')) or 0, ttl, 0, 0, before, now + ttl}
end
local wait = 0
if soonest then
  if soonest == math.huge then wait = -1 else wait = soonest - now end
end
if kind == 'r' then
  if writer then return {0, wait, 1, others} end
  if redis.call('EXISTS', KEYS[3]) == 1 then return {0, redis.call('PTTL', KEYS[3]), 3, others} end
elseif kind == 'w' then
  if others > 0 then
    if ARGV[7] ~= '0' then
      local intent = redis.call('GET', KEYS[3])
      if not intent or string.sub(intent, 1, #prefix) == prefix then
        redis.call('SET', KEYS[3], prefix .. string.sub(ARGV[3], 2), 'PX', ARGV[7])
      end
    end
    if writer then return {0, wait, 1, others} end
    return {0, wait, 2, others}
  end
elseif others >= tonumber(ARGV[6]) then
  return {0, wait, 4, others}
end
local f, member = 0, nil
if ARGV[4] == '1' then
  f = ls_incr(KEYS[2], ARGV[8])
  member = prefix .. 'fence=' .. f .. ARGV[3]
else
  member = prefix .. string.sub(ARGV[3], 2)
end
redis.call('ZADD', k, now + ttl, member)
ls_expire(k, now)
if kind == 'w' then
  local intent = redis.call('GET', KEYS[3])
  if intent and string.sub(intent, 1, #prefix) == prefix then redis.call('DEL', KEYS[3]) end
end
return {1, f, ttl, 1, 0, -2, 0}
)lua";

constexpr const char *kAcquireFairLua = R"lua(
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do redis.call('ZREM', KEYS[3], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local queued, position = nil, -1
local queue = redis.call('ZRANGE', KEYS[3], 0, -1)
for i, m in ipairs(queue) do
  if string.sub(m, 1, #prefix) == prefix then queued, position = m, i - 1 break end
end
local function leave()
  if queued then
    redis.call('ZREM', KEYS[3], queued)
    redis.call('ZREM', KEYS[4], queued)
  end
end
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #prefix) == prefix then
  leave()
  local before, at = ls_expiretime(KEYS[1], now), now + tonumber(ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], at)
  return {1, tonumber(string.match(v, ' fence=(%d+)')) or 0, tonumber(ARGV[2]), 0, 0, before, at}
end
if not v and (#queue == 0 or position == 0) then
  local f = 0
  if ARGV[4] == '1' then
    f = ls_incr(KEYS[2], ARGV[7])
    redis.call('SET', KEYS[1], prefix .. 'fence=' .. f .. ARGV[3], 'PX', ARGV[2])
  else
    redis.call('SET', KEYS[1], prefix .. string.sub(ARGV[3], 2), 'PX', ARGV[2])
  end
  return {1, f, tonumber(ARGV[2]), 1, 0, -2, 0}
end
if ARGV[5] ~= '0' then
  if not queued then
    queued = prefix .. string.sub(ARGV[3], 2)
    redis.call('ZADD', KEYS[3], ARGV[6], queued)
    position = redis.call('ZRANK', KEYS[3], queued)
  end
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), queued)
  ls_expire(KEYS[4], now)
  local qp = redis.call('PTTL', KEYS[4])
  if qp > 0 then redis.call('PEXPIRE', KEYS[3], qp) end
end
local p = 0
if v then p = redis.call('PTTL', KEYS[1]) end
local ahead = position
if position < 0 then ahead = #queue end
return {0, p, 5, ahead}
)lua";

} // namespace

const redis::Script &acquire()
{
    static const redis::Script script(withHolders(kAcquireLua));
    return script;
}

const redis::Script &acquireQueued()
{
    static const redis::Script script(queued(kAcquireLua));
    return script;
}

const redis::Script &acquireReentrant()
{
    static const redis::Script script(withHolders(kAcquireReentrantLua));
    return script;
}

const redis::Script &acquireReentrantQueued()
{
    static const redis::Script script(queued(kAcquireReentrantLua));
    return script;
}

const redis::Script &raiseFence()
{
    // The key keeps its own expiry: in its last millisecond GET still returns the value while
    // PTTL says 0, and a SET without an expiry would have made the lock permanent. Such a key
    // counts as expired (0).
    static const redis::Script script(withHolders(R"lua(
local f = tonumber(ARGV[2])
if ls_counter(KEYS[2], ARGV[3]) < f then redis.call('SET', KEYS[2], ARGV[2]) end
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  local now = ls_now()
  local m, s = ls_find(KEYS[1], ARGV[1])
  if not m or s <= now then return 0 end
  local n, tail = string.match(string.sub(m, #ARGV[1] + 1), '^fence=(%d+)(.*)$')
  if n and tonumber(n) < f then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[1], s, ARGV[1] .. 'fence=' .. ARGV[2] .. tail)
    ls_expire(KEYS[1], now)
  end
  return 1
end
if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
local p = redis.call('PTTL', KEYS[1])
if p == 0 or p == -2 then return 0 end
local n, tail = string.match(string.sub(v, #ARGV[1] + 1), '^fence=(%d+)(.*)$')
if n and tonumber(n) < f then
  if p > 0 then
    redis.call('SET', KEYS[1], ARGV[1] .. 'fence=' .. ARGV[2] .. tail, 'PX', p)
  else
    redis.call('SET', KEYS[1], ARGV[1] .. 'fence=' .. ARGV[2] .. tail)
  end
end
return 1
)lua"));
    return script;
}

const redis::Script &undoAcquire()
{
    // With ARGV[3..5] (a waiter's id, arrival, place lifetime in ms), the last two KEYS are the
    // lock's wake-up queue and deadlines: the waiter's place, which the undone grant took out
    // of the queue, is put back (the same arrival: the same place), so that a partial grant
    // leaves the waiter queued on every node, as its refusals did on the others.
    static const redis::Script script(withHolders(R"lua(
local done, n = 0, #KEYS
if ARGV[3] then n = n - 2 end
for i = 1, n do
  local k = KEYS[i]
  local v = redis.pcall('GET', k)
  if type(v) == 'table' then
    local m = ls_find(k, ARGV[1])
    if m and (ARGV[2] == '' or string.find(m .. ' ', ARGV[2] .. ' ', 1, true)) then
      redis.call('ZREM', k, m)
      ls_expire(k, ls_now())
      done = done + 1
    end
  elseif v and string.sub(v, 1, #ARGV[1]) == ARGV[1] and
         (ARGV[2] == '' or string.find(v .. ' ', ARGV[2] .. ' ', 1, true)) then
    local n = tonumber(string.match(v, ' cnt=(%d+)'))
    if n and n > 1 then
      local nv = string.gsub(string.gsub(v, ' cnt=%d+', ' cnt=' .. (n - 1), 1), ' call=[^ ]*', '', 1)
      redis.call('SET', k, nv, 'KEEPTTL')
    else
      redis.call('DEL', k)
    end
    done = done + 1
  end
end
if ARGV[3] then
  local wq, wx, now = KEYS[n + 1], KEYS[n + 2], ls_now()
  redis.call('ZADD', wq, 'NX', ARGV[4], ARGV[3])
  redis.call('ZADD', wx, now + tonumber(ARGV[5]), ARGV[3])
  local last = redis.call('ZRANGE', wx, -1, -1, 'WITHSCORES')
  local p = math.max(1, tonumber(last[2]) - now)
  redis.call('PEXPIRE', wx, p)
  redis.call('PEXPIRE', wq, p)
end
return done
)lua"));
    return script;
}

const redis::Script &restoreAcquire()
{
    // Compare-and-set: the key (or member) must still be ours with exactly the expiry this
    // call gave it. Anything else means someone acted since (our own extend, a release and a
    // new acquire, another owner): then it is no longer this call's to put back. Redis 6.2 has
    // no PEXPIRETIME: TIME + PTTL can be off by a millisecond, hence the slack of one.
    static const redis::Script script(withHolders(R"lua(
local done, i = 0, 0
for before, at in string.gmatch(ARGV[2], '(%-?%d+):(%-?%d+)') do
  i = i + 1
  local k = KEYS[i]
  before, at = tonumber(before), tonumber(at)
  if k and before ~= -2 and at > 0 then
    local now = ls_now()
    local v = redis.pcall('GET', k)
    if type(v) == 'table' then
      local m, s = ls_find(k, ARGV[1])
      if m and s == at then
        if before == -1 then
          redis.call('ZADD', k, 'XX', '+inf', m)
        elseif before <= now then
          redis.call('ZREM', k, m)
        else
          redis.call('ZADD', k, 'XX', before, m)
        end
        ls_expire(k, now)
        done = done + 1
      end
    elseif v and string.sub(v, 1, #ARGV[1]) == ARGV[1] and math.abs(ls_expiretime(k, now) - at) <= 1 then
      if before == -1 then redis.call('PERSIST', k) else redis.call('PEXPIREAT', k, before) end
      done = done + 1
    end
  end
end
return done
)lua"));
    return script;
}

namespace {
// The owner-checked delete, for a string (mutex) or a holder in a sorted set; `publish`
// appends the announcement on the release channel.
QByteArray releaseSource(bool publish)
{
    // The first waiter of the wake-up queue (KEYS[2], KEYS[3]; expired places dropped) is named
    // in the message: only it is woken, and the reply tells the releasing Locker whom. A
    // writer's or a mutex waiter's ("<hub>.<n>.x") goes to its Locker's own channel
    // ("<channel>.<hub>"), so that the other Lockers' listeners do not even wake up; a reader's
    // to the shared one (every waiting reader wakes). The first release that names a mutex or
    // writer waiter marks the time ("^<id>" in the deadlines, at minus ARGV[5], the releasing
    // client's Unix µs); later releases within ARGV[4] ms of it are quiet ({1, id, 1}: nothing published):
    // the waiter was woken by the first, found the lock taken by a thread that came straight back, and looks
    // again when the hand-off window closes; after that every release announces.
    //
    // A direct hand-over (ARGV[6..11], KEYS[4]): when the first waiter is ARGV[6], a waiter of
    // the releasing Locker that is waiting now, the script takes the lock in its name, as the
    // acquire script would have (owner prefix ARGV[7], value tail ARGV[8], TTL ARGV[9] ms, a
    // fence from the counter KEYS[4] when ARGV[10] is "1", ARGV[11] its legacy name), takes
    // its place out of the queue and publishes nothing -> {1, id, 2, fence, ttl}. The releasing
    // thread hands the grant to the waiter in its process: no message, no second round trip.
    const char *announce = publish ? R"lua(  local target, quiet = '', false
  if KEYS[3] and redis.call('EXISTS', KEYS[2]) == 1 then
    local now = ls_now()
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], 0, now)) do
      redis.call('ZREM', KEYS[2], m)
      redis.call('ZREM', KEYS[3], '^' .. m)
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, now)
    target = redis.call('ZRANGE', KEYS[2], 0, 0)[1] or ''
    if target ~= '' and target == ARGV[6] and redis.call('EXISTS', KEYS[1]) == 0 then
      redis.call('ZREM', KEYS[2], target)
      redis.call('ZREM', KEYS[3], target, '^' .. target)
      local f = 0
      if ARGV[10] == '1' then
        f = ls_incr(KEYS[4], ARGV[11])
        redis.call('SET', KEYS[1], ARGV[7] .. 'fence=' .. f .. ARGV[8], 'PX', ARGV[9])
      else
        redis.call('SET', KEYS[1], ARGV[7] .. string.sub(ARGV[8], 2), 'PX', ARGV[9])
      end
      do return {1, target, 2, f, tonumber(ARGV[9])} end
    end
    if target ~= '' then
      local nowus = tonumber(ARGV[5])
      local named = redis.call('ZSCORE', KEYS[3], '^' .. target)
      if not named then
        redis.call('ZADD', KEYS[3], -nowus, '^' .. target)
      elseif nowus + tonumber(named) < tonumber(ARGV[4]) * 1000 then
        quiet = true
      end
    end
  end
  local hub = string.match(target, '^([^.]+)%.%d+%.x$')
  if quiet and hub then
    do return {1, target, 1} end
  elseif target == '' then
    redis.call('PUBLISH', ARGV[3], ARGV[2])
  elseif hub then
    redis.call('PUBLISH', ARGV[3] .. '.' .. hub, ARGV[2] .. ' ' .. target)
  else
    redis.call('PUBLISH', ARGV[3], ARGV[2] .. ' ' .. target)
  end
  do return {1, target} end
)lua"
                                   : "";
    return withHolders(R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  local m, s = ls_find(KEYS[1], ARGV[1])
  if not m then
    if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
    return -1
  end
  local now = ls_now()
  redis.call('ZREM', KEYS[1], m)
  ls_expire(KEYS[1], now)
  if s <= now then return -1 end
)lua") + announce +
           R"lua(  return 1
end
if not v then return -1 end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
local n = tonumber(string.match(v, ' cnt=(%d+)'))
if n and n > 1 then
  local nv = string.gsub(string.gsub(v, ' cnt=%d+', ' cnt=' .. (n - 1), 1), ' call=[^ ]*', '', 1)
  redis.call('SET', KEYS[1], nv, 'KEEPTTL')
  return 2
end
redis.call('DEL', KEYS[1])
)lua" + announce +
           "return 1\n";
}
} // namespace

const redis::Script &release()
{
    static const redis::Script script(releaseSource(false));
    return script;
}

const redis::Script &releaseAndPublish()
{
    static const redis::Script script(releaseSource(true));
    return script;
}

const redis::Script &extend()
{
    static const redis::Script script(withHolders(R"lua(
local v = redis.pcall('GET', KEYS[1])
local ms = tonumber(ARGV[2])
if type(v) == 'table' or (not v and ARGV[4] ~= '' and ls_holder(ARGV[4])) then
  local k, now = KEYS[1], ls_now()
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  local m, s = ls_find(k, ARGV[1])
  if m then
    local p = -1
    if s ~= math.huge then p = s - now end
    if p >= 0 and p < (tonumber(ARGV[7]) or 0) then return {3, p} end
    if ARGV[3] == 'add' and p > 0 then ms = ms + p end
    redis.call('ZADD', k, 'XX', now + ms, m)
    ls_expire(k, now)
    return {1, ms}
  end
  if ARGV[4] ~= '' and ls_fits(k, ARGV[4]) then
    redis.call('ZADD', k, now + ms, ARGV[4])
    ls_expire(k, now)
    if ls_counter(KEYS[2], ARGV[6]) < tonumber(ARGV[5]) then redis.call('SET', KEYS[2], ARGV[5]) end
    return {2, ms}
  end
  local w = ls_soonest(k, now)
  if w == -2 then return {-1, 0} end
  return {0, w}
end
if not v then
  if ARGV[4] ~= '' then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ms)
    if ls_counter(KEYS[2], ARGV[6]) < tonumber(ARGV[5]) then redis.call('SET', KEYS[2], ARGV[5]) end
    return {2, ms}
  end
  return {-1, 0}
end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
local p = redis.call('PTTL', KEYS[1])
if p >= 0 and p < (tonumber(ARGV[7]) or 0) then return {3, p} end
if ARGV[3] == 'add' and p > 0 then ms = ms + p end
redis.call('PEXPIRE', KEYS[1], ms)
return {1, ms}
)lua"));
    return script;
}

const redis::Script &pttl()
{
    static const redis::Script script(withHolders(R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  local now = ls_now()
  local m, s = ls_find(KEYS[1], ARGV[1])
  if m and s > now then
    if s == math.huge then return {1, -1} end
    return {1, s - now}
  end
  local w = ls_soonest(KEYS[1], now)
  if w == -2 then return {-1, -2} end
  return {0, w}
end
if not v then return {-1, -2} end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
return {1, redis.call('PTTL', KEYS[1])}
)lua"));
    return script;
}

const redis::Script &ownValue()
{
    static const redis::Script script(withHolders(R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then return ls_find(KEYS[1], ARGV[1]) or false end
if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return v end
return false
)lua"));
    return script;
}

const redis::Script &acquireHolder()
{
    static const redis::Script script(withHolders(kAcquireHolderLua));
    return script;
}

const redis::Script &acquireHolderQueued()
{
    static const redis::Script script(queued(kAcquireHolderLua));
    return script;
}

const redis::Script &acquireFair()
{
    static const redis::Script script(withHolders(kAcquireFairLua));
    return script;
}

const redis::Script &acquireFairQueued()
{
    static const redis::Script script(queued(kAcquireFairLua));
    return script;
}

const redis::Script &leaveQueue()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local gone = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #ARGV[1]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZREM', KEYS[2], m, '^' .. m)
    gone = gone + 1
  end
end
return gone
)lua"));
    return script;
}

const redis::Script &acquireMany()
{
    static const redis::Script script(withHolders(R"lua(
local n = #KEYS / 2
local ours = {}
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v then
    if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[i]), i} end
    ours[i] = v
  end
end
local reply = {1, 0, tonumber(ARGV[2]), 0, 0}
local now = ls_now()
local at = now + tonumber(ARGV[2])
for i = 1, n do
  local f = 0
  reply[5 + n + i] = -2
  reply[5 + 2 * n + i] = 0
  if ours[i] then
    reply[5 + n + i] = ls_expiretime(KEYS[i], now)
    reply[5 + 2 * n + i] = at
    redis.call('PEXPIREAT', KEYS[i], at)
    f = tonumber(string.match(ours[i], ' fence=(%d+)')) or 0
  else
    reply[4] = 1
    if ARGV[4] == '0' then
      redis.call('SET', KEYS[i], ARGV[1] .. string.sub(ARGV[3], 2), 'PX', ARGV[2])
    else
      f = ls_incr(KEYS[n + i], ARGV[4 + i])
      redis.call('SET', KEYS[i], ARGV[1] .. 'fence=' .. f .. ARGV[3], 'PX', ARGV[2])
    end
  end
  reply[5 + i] = f
end
reply[2] = reply[6]
return reply
)lua"));
    return script;
}

const redis::Script &releaseMany()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local all, any = true, false
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('DEL', k)
    if ARGV[3 + i] then redis.call('PUBLISH', ARGV[3 + i], ARGV[2]) end
  else
    all = false
    if v then any = true end
  end
end
if all then return 1 end
if any then return 0 end
return -1
)lua"));
    return script;
}

const redis::Script &extendMany()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local ms, least = tonumber(ARGV[2]), tonumber(ARGV[4]) or 0
local shortest = nil
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if not v then return {-1, 0} end
  if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', k)} end
  local p = redis.call('PTTL', k)
  if p >= 0 and p < least then return {3, p} end
  if not shortest or p < shortest then shortest = p end
end
if ARGV[3] == 'add' and shortest and shortest > 0 then ms = ms + shortest end
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ms) end
return {1, ms}
)lua"));
    return script;
}

const redis::Script &pttlMany()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local shortest = nil
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if not v then return {-1, -2} end
  if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', k)} end
  local p = redis.call('PTTL', k)
  if not shortest or (p >= 0 and (shortest < 0 or p < shortest)) then shortest = p end
end
return {1, shortest}
)lua"));
    return script;
}

} // namespace lockscope::lock::scripts
