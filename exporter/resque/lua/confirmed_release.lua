-- Release a confirmed set's lock, only if this run still holds it: its lock may have expired and been
-- taken by another run meanwhile, whose lock (and state) must stay.
-- KEYS[1] the lock; KEYS[2] the set's description (HASH)
-- ARGV[1] the owner that took the lock; ARGV[2] "1" when the run ended early (state becomes "stopped")
-- Returns 1 released, 0 not ours (or already gone).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'state', 'stopped')
end
return 1
