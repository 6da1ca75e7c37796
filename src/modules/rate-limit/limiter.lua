--[[
  Gatehouse limiter: decides every rate-limit window and every quota of one request in one
  round trip, and consumes only when every one of them admits (a rejected request consumes
  nothing). All keys of one call share a hash tag (the API key's organization, so that
  organization-wide quotas can be counted with the key's windows), so this runs unchanged on
  Redis Cluster.

  KEYS[1]              revocation marker (set => the key is revoked)
  KEYS[2..n+1]         state of each of the n windows, in ARGV order
  KEYS[n+2..n+1+2m]    per quota j: its counter for the current period, then a hash of
                       the events it has already reported this period (warning, exceeded)
  KEYS[#KEYS]          the generation of the tag's limits (missing = 0)

  ARGV[1]  now in ms (0 = use Redis TIME; tests pass a clock)
  ARGV[2]  cost (requests this call counts for, >= 1)
  ARGV[3]  n, the number of windows
  ARGV[4]  a unique id for this request (members of the sliding logs)
  ARGV[5]  1 = peek: decide as for the next request but write nothing (explain)
  then per window i: algorithm (0 exact sliding log, 1 bucketed sliding, 2 token bucket),
                     window length in ms, limit
  then:    m, the number of quotas; per quota j: max, period end in ms, warning threshold
  ARGV[#ARGV]  the generation the caller's windows and quotas were read at ('' = do not check)

  Returns { outcome, window, quota, w1Remaining, w1ResetMs, ..., q1Used, q1Remaining, q1Flags, ... }
  outcome: 0 admitted, 1 rate limited, 2 over quota, 3 revoked, 4 stale: the caller's limits
           are older than the generation in Redis (returned second); nothing was counted.
  window:  1-based index of the window that rejected, else of the tightest one (0: no windows).
  quota:   1-based index of the quota that rejected (0: none did).
  Remaining values are after this request; reset is when the next unit frees (ms, absolute).
  Quota flags: 1 = this request took the quota to its warning threshold; 2 = this request
  was refused by the quota while it was exhausted (no request of any cost fits). Each is
  reported at most once per period, across all processes, whatever max_requests changes to.

  Invariants: an exact sliding window never holds more than `limit` admissions in any
  interval of its length; a bucketed one never more than `limit` in any window starting on
  a bucket edge (1/60 of the window); a token bucket never goes below zero tokens; a quota
  counter never passes its max.
]]

local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local request_id = ARGV[4]
local peek = ARGV[5] == '1'

local quota_base = 6 + n * 3
local m = tonumber(ARGV[quota_base])

-- The revocation marker, the generation and every quota's counter in one read (all strings,
-- all under the call's hash tag).
local read = { KEYS[1], KEYS[#KEYS] }
for j = 1, m do
  read[j + 2] = KEYS[n + 2 * j]
end
local values = redis.call('MGET', unpack(read))

if values[1] then
  return { 3, 0, 0 }
end

local known = ARGV[#ARGV]
if known ~= '' then
  local generation = values[2] or '0'
  if generation ~= known then
    return { 4, tonumber(generation), 0 }
  end
end

-- Phase 1: read every window and decide, writing nothing.
local verdicts = {}
local rejected_by = 0
for i = 1, n do
  local base = 5 + (i - 1) * 3
  local algorithm = tonumber(ARGV[base + 1])
  local window = tonumber(ARGV[base + 2])
  local limit = tonumber(ARGV[base + 3])
  local key = KEYS[i + 1]
  local v = { algorithm = algorithm, window = window, limit = limit, key = key }

  if algorithm == 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    v.used = count
    v.admits = count + cost <= limit
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    v.oldest = oldest[2] and tonumber(oldest[2]) or now
  elseif algorithm == 1 then
    -- Buckets of window/60 ms in a hash, with a running `total` and the index `first` of the
    -- oldest bucket that may still count, so a call costs O(1) however busy the key is.
    local bucket_ms = window / 60
    local current = math.floor(now / bucket_ms)
    local meta = redis.call('HMGET', key, 'total', 'first', tostring(current))
    local total = tonumber(meta[1]) or 0
    local first = tonumber(meta[2]) or current
    -- The current bucket's count, so that consuming is one HSET (it is never cleaned below).
    v.in_bucket = tonumber(meta[3]) or 0
    local oldest_live = current - 59
    if first < oldest_live then
      if first <= current - 120 then
        redis.call('DEL', key)
        total = 0
        v.in_bucket = 0
      else
        for index = first, oldest_live - 1 do
          local count = tonumber(redis.call('HGET', key, tostring(index)) or '0')
          if count > 0 then
            total = total - count
            redis.call('HDEL', key, tostring(index))
          end
        end
        redis.call('HSET', key, 'total', total, 'first', oldest_live)
      end
      first = oldest_live
    end
    v.used = total
    v.bucket = current
    v.bucket_ms = bucket_ms
    v.first_live = first
    v.admits = total + cost <= limit
  else
    local state = redis.call('HMGET', key, 'tokens', 'ts')
    local tokens = tonumber(state[1]) or limit
    local last = tonumber(state[2]) or now
    if now > last then
      tokens = math.min(limit, tokens + (now - last) * limit / window)
    end
    v.tokens = tokens
    v.admits = tokens >= cost
  end

  if not v.admits and rejected_by == 0 then rejected_by = i end
  verdicts[i] = v
end

-- Quotas (read above) decide only when every window admits.
local quotas = {}
for j = 1, m do
  local at = quota_base + (j - 1) * 3
  local q = {
    max = tonumber(ARGV[at + 1]),
    period_end = tonumber(ARGV[at + 2]),
    warn_at = tonumber(ARGV[at + 3]),
    key = KEYS[n + 2 * j],
    marker = KEYS[n + 1 + 2 * j],
    flags = 0,
  }
  q.used = tonumber(values[j + 2] or '0')
  quotas[j] = q
end

local outcome = 0
local quota_rejected_by = 0
if rejected_by > 0 then
  outcome = 1
else
  for j = 1, m do
    if quotas[j].used + cost > quotas[j].max then
      outcome = 2
      quota_rejected_by = j
      break
    end
  end
end

-- Reports each quota event once per period: true when `event` was not reported yet.
local function first_report(q, event)
  if redis.call('HSETNX', q.marker, event, '1') == 0 then return false end
  redis.call('PEXPIREAT', q.marker, q.period_end)
  return true
end

if outcome == 2 and not peek then
  local q = quotas[quota_rejected_by]
  -- A refused cost that does not fit is not exhaustion: the quota may still have room.
  if q.used >= q.max and first_report(q, 'exceeded') then q.flags = 2 end
end

-- Phase 2: consume, only when everything admits.
if outcome == 0 and not peek then
  for i = 1, n do
    local v = verdicts[i]
    if v.algorithm == 0 then
      for c = 1, cost do
        redis.call('ZADD', v.key, now, request_id .. ':' .. c)
      end
      redis.call('PEXPIRE', v.key, v.window)
      v.used = v.used + cost
      if v.used == cost then v.oldest = now end
    elseif v.algorithm == 1 then
      local bucket = tostring(v.bucket)
      local total = tostring(v.used + cost)
      local in_bucket = tostring(v.in_bucket + cost)
      if v.used == 0 then
        redis.call('HSET', v.key, bucket, in_bucket, 'total', total, 'first', v.first_live)
      else
        redis.call('HSET', v.key, bucket, in_bucket, 'total', total)
      end
      -- Expiry set when a bucket is first written, not on every call: the key then outlives
      -- that bucket's end by a window, when nothing in it counts any more, and each later
      -- bucket's first write moves it on (one command less per window on a busy key).
      -- Whole ms: PEXPIRE refuses a fraction, and a bucket is one when window/60 is not whole.
      if v.in_bucket == 0 then
        redis.call('PEXPIRE', v.key, math.ceil(v.window + v.bucket_ms))
      end
      v.used = v.used + cost
    else
      v.tokens = v.tokens - cost
      redis.call('HSET', v.key, 'tokens', tostring(v.tokens), 'ts', now)
      redis.call('PEXPIRE', v.key, v.window * 2)
    end
  end
  for j = 1, m do
    local q = quotas[j]
    q.used = redis.call('INCRBY', q.key, cost)
    if q.used == cost then redis.call('PEXPIREAT', q.key, q.period_end) end
    if q.used >= q.warn_at and first_report(q, 'warning') then
      q.flags = 1
    end
  end
end

-- Report remaining and reset for each window, and pick the deciding one.
local deciding = rejected_by
local tightest = nil
local out = { outcome, 0, quota_rejected_by }
for i = 1, n do
  local v = verdicts[i]
  local remaining, reset
  if v.algorithm == 0 then
    remaining = v.limit - v.used
    reset = (v.used > 0) and (v.oldest + v.window) or now
  elseif v.algorithm == 1 then
    remaining = v.limit - v.used
    reset = now
    if v.used > 0 then
      -- Room comes back when the oldest bucket that still counts ages out; `first_live` may
      -- be empty, so a refusal (whose Retry-After this is) looks for the first non-empty one.
      local oldest = v.first_live
      if not v.admits then
        while oldest < v.bucket and tonumber(redis.call('HGET', v.key, tostring(oldest)) or '0') == 0 do
          oldest = oldest + 1
        end
      end
      reset = (oldest + 60) * v.bucket_ms
    end
  else
    remaining = math.floor(v.tokens)
    local missing = 1 - (v.tokens - remaining)
    if remaining > 0 then missing = 0 end
    reset = now + math.ceil(missing * v.window / v.limit)
  end
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = math.floor(reset)
  local share = remaining / v.limit
  if tightest == nil or share < tightest then
    tightest = share
    if rejected_by == 0 then deciding = i end
  end
end
for j = 1, m do
  local q = quotas[j]
  out[#out + 1] = q.used
  out[#out + 1] = math.max(q.max - q.used, 0)
  out[#out + 1] = q.flags
end
out[2] = deciding
return out
