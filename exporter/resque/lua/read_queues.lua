-- Length and head item of each queue list in KEYS: one call per chunk of queues instead of two
-- commands per queue (each command costs the client far more than the work costs Redis). A chunk is a
-- few hundred queues, well under a millisecond of Redis time.
-- Returns {length 1, head 1, length 2, head 2, ...}: length -1 when the key is not a list (WRONGTYPE),
-- head false (nil) for an empty list.
local out = {}
for i, key in ipairs(KEYS) do
  local length = redis.pcall('LLEN', key)
  if type(length) == 'table' then
    out[2 * i - 1] = -1
    out[2 * i] = false
  else
    out[2 * i - 1] = length
    out[2 * i] = redis.call('LINDEX', key, 0)
  end
end
return out
