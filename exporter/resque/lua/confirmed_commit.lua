-- Record what a run did with some ids of a confirmed set, in one atomic step: the copies each id has
-- left (a used-up id leaves its bucket), the progress counters, the set's TTL and the run's lock.
-- KEYS[1]   the set's HASH; KEYS[2] the run's lock; KEYS[3..] the bucket HASHes of the ids
-- ARGV[1]   seconds the set lives from now; ARGV[2] milliseconds the lock is held from now
-- ARGV[3]   "1": the last write of a chunk (its ids are no longer `inflight`)
-- ARGV[4]   N, then N pairs: a counter field (`done`, `skipped:<reason>`) and its increment
-- then      triples: the number of the id's bucket in KEYS, the id, the copies it has left
local meta = KEYS[1]
local counters = tonumber(ARGV[4])
for i = 5, 4 + 2 * counters, 2 do
  redis.call('HINCRBY', meta, ARGV[i], tonumber(ARGV[i + 1]))
end
for i = 5 + 2 * counters, #ARGV, 3 do
  local bucket, id, left = KEYS[tonumber(ARGV[i])], ARGV[i + 1], tonumber(ARGV[i + 2])
  if left > 0 then
    redis.call('HSET', bucket, id, left)
  else
    redis.call('HDEL', bucket, id)
  end
end
if ARGV[3] == '1' then
  redis.call('HDEL', meta, 'inflight')
end
redis.call('EXPIRE', meta, tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
