-- resque-scheduler's delayed jobs, time-budgeted per call so a 100k-timestamp schedule never blocks Redis.
-- KEYS[1] = delayed_queue_schedule (ZSET, member = score = epoch seconds)
-- ARGV[1] = prefix of the `delayed:<epoch>` lists, ARGV[2] = overdue cutoff (epoch seconds),
-- ARGV[3] = rank where this call's slice of the job count starts, ARGV[4] = most timestamps in the slice,
-- ARGV[5] = most overdue timestamps whose lists are counted,
-- ARGV[6] = microseconds each of the two loops (overdue lists, then the slice) may run (Redis TIME)
-- Timestamps are fetched 128 at a time, so no single ZRANGE builds a big reply either.
-- Returns {timestamps, jobs in the slice, timestamps in the slice, overdue timestamps,
--          overdue jobs (in the first `overdue counted` overdue timestamps), oldest overdue epoch or -1,
--          overdue timestamps counted}
local BATCH = 128
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local budget = tonumber(ARGV[6])
local prefix = ARGV[1]

local timestamps = redis.call('ZCARD', KEYS[1])
local overdue = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[2])
local wanted = math.min(overdue, tonumber(ARGV[5]))
local overdue_jobs, oldest, counted = 0, -1, 0
local deadline = now_us() + budget
while counted < wanted do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', counted,
    math.min(BATCH, wanted - counted))
  if #due == 0 then break end
  for i = 1, #due, 2 do
    overdue_jobs = overdue_jobs + redis.call('LLEN', prefix .. due[i])
    if oldest < 0 then oldest = tonumber(due[i + 1]) end
  end
  counted = counted + #due / 2
  if now_us() >= deadline then break end
end

local start, most = tonumber(ARGV[3]), tonumber(ARGV[4])
local jobs, sliced = 0, 0
deadline = now_us() + budget
while sliced < most do
  local members = redis.call('ZRANGE', KEYS[1], start + sliced, start + sliced + math.min(BATCH, most - sliced) - 1)
  if #members == 0 then break end
  for _, member in ipairs(members) do
    jobs = jobs + redis.call('LLEN', prefix .. member)
  end
  sliced = sliced + #members
  if now_us() >= deadline then break end
end
return {timestamps, jobs, sliced, overdue, overdue_jobs, oldest, counted}
