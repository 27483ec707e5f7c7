-- resque-scheduler's delayed jobs, bounded per call so a 100k-timestamp schedule never blocks Redis long.
-- KEYS[1] = delayed_queue_schedule (ZSET, member = score = epoch seconds)
-- ARGV[1] = prefix of the `delayed:<epoch>` lists, ARGV[2] = overdue cutoff (epoch seconds),
-- ARGV[3] = rank where this call's slice of the job count starts, ARGV[4] = slice size,
-- ARGV[5] = most overdue timestamps whose lists are counted
-- Returns {timestamps, jobs in the slice, timestamps in the slice, overdue timestamps,
--          overdue jobs (in the first ARGV[5] overdue timestamps), oldest overdue epoch or -1}
local timestamps = redis.call('ZCARD', KEYS[1])
local start = tonumber(ARGV[3])
local slice = redis.call('ZRANGE', KEYS[1], start, start + tonumber(ARGV[4]) - 1)
local jobs = 0
for _, member in ipairs(slice) do
  jobs = jobs + redis.call('LLEN', ARGV[1] .. member)
end
local overdue = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[5]))
local overdue_jobs, oldest = 0, -1
for i = 1, #due, 2 do
  overdue_jobs = overdue_jobs + redis.call('LLEN', ARGV[1] .. due[i])
  if oldest < 0 then oldest = tonumber(due[i + 1]) end
end
return {timestamps, jobs, #slice, overdue, overdue_jobs, oldest}
