-- Apply verified edits to one Resque list (a failure list or a queue) in one atomic step.
--
-- Every edit names the element by its exact stored bytes plus the index where it was read. The
-- element is looked for at that index (shifted by how far earlier edits of this call found theirs,
-- since concurrent removals move whole runs of entries toward the head), then at the index as read,
-- then anywhere (LPOS). If it is gone, the edit is skipped and reported 0: an index alone is never
-- trusted (layout doc §5.3). Byte-identical duplicates cannot be told apart; acting on either is
-- harmless.
--
-- KEYS[1]   the list
-- KEYS[2]   the `queues` set (SADD for every payload pushed, as Resque.push does)
-- KEYS[3..] queue lists that payloads are pushed to
-- ARGV[1]   "1": remove every element found; "0": keep it (optionally replaced)
-- ARGV[2]   a sentinel unique to this call: found elements are LSET to it, then removed with one
--           LREM (one scan for the whole batch instead of one per element)
-- ARGV[3]   microseconds (Redis TIME) after which no further edit is started: a call on a long list
--           never keeps Redis from its workers for long; the caller sends the edits left in another call
-- ARGV[4..] 6 fields per edit: raw element, index as read (negative = from the tail), replacement
--           ("" = none), payload to RPUSH ("" = none), number of its queue key in KEYS, queue name
-- Returns one integer per edit: 1 applied, 0 gone, -1 not attempted (the budget was spent first).
local list = KEYS[1]
local remove = ARGV[1] == '1'
local sentinel = ARGV[2]
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local deadline = now_us() + tonumber(ARGV[3])
local stride = 6
local count = (#ARGV - 3) / stride
local length = redis.call('LLEN', list)
local results = {}
local shift = 0
local removed = 0

for i = 0, count - 1 do
  if i > 0 and now_us() >= deadline then
    for j = i, count - 1 do
      results[j + 1] = -1
    end
    break
  end
  local base = 4 + i * stride
  local raw = ARGV[base]
  local hint = tonumber(ARGV[base + 1])
  if hint < 0 then
    hint = length + hint
  end
  local pos = false
  local guess = hint - shift
  if guess >= 0 and redis.call('LINDEX', list, guess) == raw then
    pos = guess
  elseif shift ~= 0 and hint >= 0 and redis.call('LINDEX', list, hint) == raw then
    pos = hint
  else
    pos = redis.call('LPOS', list, raw)
  end
  if pos then
    shift = hint - pos
    local payload = ARGV[base + 3]
    if payload ~= '' then
      redis.call('SADD', KEYS[2], ARGV[base + 5])
      redis.call('RPUSH', KEYS[tonumber(ARGV[base + 4])], payload)
    end
    if remove then
      redis.call('LSET', list, pos, sentinel)
      removed = removed + 1
    elseif ARGV[base + 2] ~= '' then
      redis.call('LSET', list, pos, ARGV[base + 2])
    end
    results[i + 1] = 1
  else
    results[i + 1] = 0
  end
end

if removed > 0 then
  redis.call('LREM', list, removed, sentinel)
end
return results
