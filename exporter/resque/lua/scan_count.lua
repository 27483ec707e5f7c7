-- A bounded slice of a SCAN over the keyspace, counting keys that match a pattern.
-- Continues from ARGV[1] (cursor); runs at most ARGV[4] SCAN steps of COUNT ARGV[3].
-- Returns {next cursor ("0" = the cycle is complete), matches found in this slice}.
local cursor = ARGV[1]
local found = 0
local steps = 0
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[2], 'COUNT', ARGV[3])
  cursor = reply[1]
  found = found + #reply[2]
  steps = steps + 1
until cursor == '0' or steps >= tonumber(ARGV[4])
return {cursor, found}
