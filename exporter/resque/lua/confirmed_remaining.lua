-- Copies left to act on for some ids of a confirmed set (0: not in the set, or used up), in one call
-- instead of one HMGET per bucket. Read-only.
-- KEYS     the bucket HASHes the ids fall in (confirmed_sets.py)
-- ARGV     pairs: the number of the id's bucket in KEYS, the id
-- Returns one integer per id.
local out = {}
for i = 1, #ARGV, 2 do
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[tonumber(ARGV[i])], ARGV[i + 1])) or 0
end
return out
