-- Record some ids of a dry run in its confirmed set: one more copy each, in its bucket. A bucket's first
-- write gives it the set's TTL, so nothing of a set outlives it, even a dry run that died half way.
-- KEYS     the bucket HASHes the ids fall in, those written for the first time first
-- ARGV[1]  seconds the buckets live from now; ARGV[2] how many of KEYS are written for the first time
-- ARGV[3..] triples: the number of the id's bucket in KEYS, the id, how many copies of it were seen
for i = 3, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], tonumber(ARGV[i + 2]))
end
for i = 1, tonumber(ARGV[2]) do
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1]))
end
return 1
