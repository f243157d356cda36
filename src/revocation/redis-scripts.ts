/**
 * Lua scripts of the Redis store. KEYS: the entries hash, the expiry sorted set, the version.
 * PUT ARGV: field, entry JSON, expiry (ms), channel, max entries, now (ms); returns the new
 * version, or -1 when the set is full. DELETE ARGV: field, channel; returns the new version, or
 * 0 when there was no such entry.
 */
// Every write bumps a version and publishes the change in the same script, so a replica can tell
// from the version alone whether its mirror has seen every change.
export const PUT_SCRIPT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6], 'LIMIT', 0, 1000)
for _, field in ipairs(expired) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[4], '{"v":' .. version .. ',"op":"put","entry":' .. ARGV[2] .. '}')
return version
`;

export const DELETE_SCRIPT = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 0 then return 0 end
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], '{"v":' .. version .. ',"op":"del","key":' .. cjson.encode(ARGV[1]) .. '}')
return version
`;

/** The scripts as ioredis exposes them once defined with `defineCommand`. */
export interface Scripts {
  tokengatePut(...args: (string | number)[]): Promise<number>;
  tokengateDelete(...args: (string | number)[]): Promise<number>;
}
