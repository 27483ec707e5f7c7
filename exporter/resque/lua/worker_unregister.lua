-- Unregister one worker the way Resque's Worker#unregister_worker does (layout doc §3.5), in one
-- atomic step that first re-checks what the caller decided on:
--   * unless forced, the heartbeat is still the one read and, when the caller went by the heartbeat,
--     still expired against Redis TIME (a worker that beat in between is alive: answer 'alive' and
--     change nothing); when the agent on the worker's host saw its process gone, only unchanged (a
--     gone process cannot beat; a worker registered again under the same id has beaten);
--   * `worker:<id>` still holds the job read (or still none), so the failure recorded is the job
--     the worker was really running.
-- Then the in-flight job (if any) becomes a failure entry WITHOUT touching stat:failed and without
-- requeueing, and every per-worker key goes, as in Resque's own pipeline.
--
-- KEYS: 1 workers, 2 worker:<id>, 3 worker:<id>:started, 4 workers:heartbeat,
--       5 stat:processed:<id>, 6 stat:failed:<id>, 7 the failure list, 8 failed_queues
-- ARGV: 1 worker id, 2 "1" to check the heartbeat is unchanged and expired, "2" only unchanged, "0" not
--       at all (forced), 3 heartbeat value read ("" = none), 4 its epoch seconds,
--       5 prune interval seconds, 6 worker:<id> value read ("" = idle), 7 failure entry ("" = none),
--       8 failure list name to add to failed_queues ("" = default backend, no SADD)
-- Returns 'ok', 'alive' or 'changed'.
local id = ARGV[1]

if ARGV[2] == '2' then
  local beat = redis.call('HGET', KEYS[4], id)
  if (beat or '') ~= ARGV[3] then
    return 'changed'
  end
elseif ARGV[2] == '1' then
  local beat = redis.call('HGET', KEYS[4], id)
  if beat ~= ARGV[3] then
    return 'changed'
  end
  local now = redis.call('TIME')
  local seconds = tonumber(now[1]) + tonumber(now[2]) / 1000000
  if seconds - tonumber(ARGV[4]) <= tonumber(ARGV[5]) then
    return 'alive'
  end
end

local job = redis.call('GET', KEYS[2])
if not job then
  job = ''
end
if job ~= ARGV[6] then
  return 'changed'
end

if ARGV[7] ~= '' then
  if ARGV[8] ~= '' then
    redis.call('SADD', KEYS[8], ARGV[8])
  end
  redis.call('RPUSH', KEYS[7], ARGV[7])
end

redis.call('SREM', KEYS[1], id)
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[4], id)
redis.call('DEL', KEYS[5])
redis.call('DEL', KEYS[6])
return 'ok'
