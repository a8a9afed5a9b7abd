import type { RateLimitKind } from './errors.js';
import { type BucketLevels, GRANTED, type RateLimitRules, type RateLimitStore, type TakeResult } from './rate-limit-store.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/* Shared by both scripts: a bucket's level at `now`, and the time it was last brought up to date. */
const LEVEL = `
local now = tonumber(ARGV[1])
local function level(key, cap, window)
  local v = redis.call('HMGET', key, 't', 'u')
  local t = tonumber(v[1])
  local u = tonumber(v[2])
  if t == nil or u == nil then return cap, now end
  local elapsed = now - u
  if elapsed < 0 then elapsed = 0 end
  local l = t + elapsed * cap / window
  if l > cap then l = cap end
  return l, math.max(u, now)
end
`;

/** KEYS: request bucket, token bucket. ARGV: now, request capacity, window, token capacity (0: off), window, token cost. */
const TAKE = new RedisScript(`${LEVEL}
local function wait(l, cost, cap, window)
  local needed = cost
  if needed > cap then needed = cap end
  if l >= needed then return 0 end
  return math.ceil((needed - l) * window / cap)
end
local rcap, rwin = tonumber(ARGV[2]), tonumber(ARGV[3])
local rl, ru = level(KEYS[1], rcap, rwin)
local rw = wait(rl, 1, rcap, rwin)
local tcap, twin, tcost = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tl, tu, tw = 0, now, 0
if tcap > 0 then
  tl, tu = level(KEYS[2], tcap, twin)
  tw = wait(tl, tcost, tcap, twin)
end
if rw > 0 or tw > 0 then
  if rw >= tw then return {0, rw, 1, tostring(rl), tostring(tl)} end
  return {0, tw, 2, tostring(rl), tostring(tl)}
end
redis.call('HSET', KEYS[1], 't', tostring(rl - 1), 'u', tostring(ru))
redis.call('PEXPIRE', KEYS[1], rwin * 2)
if tcap > 0 then
  redis.call('HSET', KEYS[2], 't', tostring(tl - tcost), 'u', tostring(tu))
  redis.call('PEXPIRE', KEYS[2], twin * 2)
end
return {1, 0, 0, tostring(rl - 1), tostring(tl - tcost)}
`);

/** KEYS: token bucket. ARGV: now, capacity, window, tokens to add (negative: take). */
const ADJUST = new RedisScript(`${LEVEL}
local cap, win = tonumber(ARGV[2]), tonumber(ARGV[3])
local l, u = level(KEYS[1], cap, win)
l = l + tonumber(ARGV[4])
if l > cap then l = cap end
redis.call('HSET', KEYS[1], 't', tostring(l), 'u', tostring(u))
redis.call('PEXPIRE', KEYS[1], win * 2)
return 1
`);

/** KEYS: request bucket, token bucket. ARGV: now, request capacity, window, token capacity (0: off), window. Reads only. */
const PEEK = new RedisScript(`${LEVEL}
local rl = level(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
local tl = 0
if tonumber(ARGV[4]) > 0 then tl = level(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5])) end
return {tostring(rl), tostring(tl)}
`);

/**
 * Token buckets in Redis, changed atomically by Lua scripts, so every process pointing at the
 * same Redis and key prefix shares one quota. Keys expire after two idle windows.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: ScriptClient;
  readonly #rules: RateLimitRules;
  readonly #prefix: string;
  readonly #keys = new Map<string, [string, string]>();

  constructor(client: ScriptClient, rules: RateLimitRules, keyPrefix: string) {
    this.#client = client;
    this.#rules = rules;
    this.#prefix = keyPrefix;
  }

  async take(key: string, tokens: number, now: number): Promise<TakeResult> {
    const { requests, tokens: tokenRule } = this.#rules;
    const reply = (await TAKE.run(this.#client, this.#keysFor(key), [
      now,
      requests.capacity,
      requests.windowMs,
      tokenRule?.capacity ?? 0,
      tokenRule?.windowMs ?? 1,
      tokens,
    ])) as [number, number, number, string, string];
    // Levels come as strings: a Lua number would reach the client truncated to an integer.
    const levels = { requests: Number(reply[3]), tokens: tokenRule === undefined ? undefined : Number(reply[4]) };
    if (reply[0] === 1) return { ...GRANTED, levels };
    const limit: RateLimitKind = reply[2] === 2 ? 'tokens' : 'requests';
    return { granted: false, waitMs: reply[1], limit, levels };
  }

  async peek(key: string, now: number): Promise<BucketLevels> {
    const { requests, tokens: tokenRule } = this.#rules;
    const reply = (await PEEK.run(this.#client, this.#keysFor(key), [
      now,
      requests.capacity,
      requests.windowMs,
      tokenRule?.capacity ?? 0,
      tokenRule?.windowMs ?? 1,
    ])) as [string, string];
    return { requests: Number(reply[0]), tokens: tokenRule === undefined ? undefined : Number(reply[1]) };
  }

  async adjustTokens(key: string, tokens: number, now: number): Promise<void> {
    const rule = this.#rules.tokens;
    if (rule === undefined || tokens === 0) return;
    await ADJUST.run(this.#client, [this.#keysFor(key)[1]], [now, rule.capacity, rule.windowMs, tokens]);
  }

  /** Both keys share a hash tag, so a cluster keeps them on one node for the script. */
  #keysFor(key: string): [string, string] {
    let keys = this.#keys.get(key);
    if (keys === undefined) {
      keys = [`${this.#prefix}rl:{${key}}:requests`, `${this.#prefix}rl:{${key}}:tokens`];
      this.#keys.set(key, keys);
    }
    return keys;
  }
}
