-- A time-budgeted slice of a SCAN over the keyspace, collecting keys that match a pattern.
-- Continues from ARGV[1] (cursor); runs SCAN steps of COUNT ARGV[3], at most ARGV[4] of them, and stops
-- after the step that ends ARGV[5] microseconds (Redis TIME) after the call started.
-- Returns {next cursor ("0" = the cycle is complete), the matching key names found in this slice}.
-- Names rather than a count: SCAN may return a key twice while the keyspace changes, and the caller
-- de-duplicates across the cycle.
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local deadline = now_us() + tonumber(ARGV[5])
local cursor = ARGV[1]
local found = {}
local steps = 0
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[2], 'COUNT', ARGV[3])
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do
    found[#found + 1] = key
  end
  steps = steps + 1
until cursor == '0' or steps >= tonumber(ARGV[4]) or now_us() >= deadline
return {cursor, found}
