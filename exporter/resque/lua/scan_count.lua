-- A bounded slice of a SCAN over the keyspace, collecting keys that match a pattern.
-- Continues from ARGV[1] (cursor); runs at most ARGV[4] SCAN steps of COUNT ARGV[3].
-- Returns {next cursor ("0" = the cycle is complete), the matching key names found in this slice}.
-- Names rather than a count: SCAN may return a key twice while the keyspace changes, and the caller
-- de-duplicates across the cycle.
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
until cursor == '0' or steps >= tonumber(ARGV[4])
return {cursor, found}
