-- resque-scheduler's delayed jobs in one call, so 100k timestamps never cost 100k round trips.
-- KEYS[1] = delayed_queue_schedule (ZSET, member = score = epoch seconds)
-- ARGV[1] = prefix of the `delayed:<epoch>` lists, ARGV[2] = overdue cutoff (epoch seconds),
-- ARGV[3] = most timestamps whose lists are counted (the rest is reported as not counted)
-- Returns {timestamps, jobs in counted lists, counted timestamps, overdue timestamps counted,
--          overdue jobs, oldest overdue epoch or -1}
local limit = tonumber(ARGV[3])
local timestamps = redis.call('ZCARD', KEYS[1])
local members = redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
local jobs, counted, overdue, overdue_jobs, oldest = 0, 0, 0, 0, -1
local cutoff = tonumber(ARGV[2])
for i = 1, #members, 2 do
  local n = redis.call('LLEN', ARGV[1] .. members[i])
  local due = tonumber(members[i + 1])
  jobs = jobs + n
  counted = counted + 1
  if due <= cutoff then
    overdue = overdue + 1
    overdue_jobs = overdue_jobs + n
    if oldest < 0 then oldest = due end
  end
end
return {timestamps, jobs, counted, overdue, overdue_jobs, oldest}
