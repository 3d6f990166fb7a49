#include "lockscripts.h"

namespace lockscope::lock::scripts {

const redis::Script &acquire()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(string.match(v, ' fence=(%d+)')) or 0, tonumber(ARGV[2]), 0}
  end
  return {0, redis.call('PTTL', KEYS[1])}
end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[1] .. string.sub(ARGV[3], 2), 'PX', ARGV[2])
  return {1, 0, tonumber(ARGV[2]), 1}
end
local f = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. 'fence=' .. f .. ARGV[3], 'PX', ARGV[2])
return {1, f, tonumber(ARGV[2]), 1}
)lua"));
    return script;
}

const redis::Script &raiseFence()
{
    // The key keeps its own expiry: in its last millisecond GET still returns the value while
    // PTTL says 0, and a SET without an expiry would have made the lock permanent. Such a key
    // counts as expired (0).
    static const redis::Script script(QByteArrayLiteral(R"lua(
local f = tonumber(ARGV[2])
if (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) < f then redis.call('SET', KEYS[2], ARGV[2]) end
local v = redis.call('GET', KEYS[1])
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
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and not string.find(v .. ' ', ARGV[2] .. ' ', 1, true) then return 0 end
redis.call('DEL', KEYS[1])
return 1
)lua"));
    return script;
}

const redis::Script &release()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
)lua"));
    return script;
}

const redis::Script &releaseAndPublish()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
)lua"));
    return script;
}

const redis::Script &extend()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
local ms = tonumber(ARGV[2])
if not v then
  if ARGV[4] ~= '' then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ms)
    local c = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
    if c < tonumber(ARGV[5]) then redis.call('SET', KEYS[2], ARGV[5]) end
    return {2, ms}
  end
  return {-1, 0}
end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
local p = redis.call('PTTL', KEYS[1])
if p >= 0 and p < (tonumber(ARGV[6]) or 0) then return {3, p} end
if ARGV[3] == 'add' and p > 0 then ms = ms + p end
redis.call('PEXPIRE', KEYS[1], ms)
return {1, ms}
)lua"));
    return script;
}

const redis::Script &pttl()
{
    static const redis::Script script(QByteArrayLiteral(R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return {-1, -2} end
if string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
return {1, redis.call('PTTL', KEYS[1])}
)lua"));
    return script;
}

} // namespace lockscope::lock::scripts
