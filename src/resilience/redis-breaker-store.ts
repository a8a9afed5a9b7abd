import type { BreakerDecision, BreakerRules, BreakerSnapshot, BreakerStateName, BreakerStore, BreakerTransition } from './breaker-store.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/* State codes in Redis: 0 closed, 1 half-open, 2 open. Hash fields: s state, f failures, o opened at, p probe at. */
const NAMES: readonly BreakerStateName[] = ['closed', 'half_open', 'open'];
const TTL_MS = 86_400_000;

const READ = `
local v = redis.call('HMGET', KEYS[1], 's', 'f', 'o', 'p')
local s, f = tonumber(v[1]) or 0, tonumber(v[2]) or 0
`;

/** ARGV: now, reset ms. → {allowed, probe, retryAt, failures, from state or -1}. */
const ACQUIRE = new RedisScript(`${READ}
local now, reset = tonumber(ARGV[1]), tonumber(ARGV[2])
if s == 0 then return {1, 0, 0, f, -1} end
local since = tonumber(v[3]) or 0
if s == 1 then since = tonumber(v[4]) or 0 end
if now < since + reset then return {0, (s == 1) and 1 or 0, since + reset, f, -1} end
redis.call('HSET', KEYS[1], 's', 1, 'p', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ${TTL_MS})
return {1, 1, 0, f, (s == 2) and 2 or -1}
`);

/** ARGV: now, probe (1/0). → from state, or -1 when nothing changed. */
const SUCCESS = new RedisScript(`${READ}
if s == 0 then
  if f > 0 then redis.call('HSET', KEYS[1], 'f', 0) end
  return -1
end
if ARGV[2] ~= '1' or s ~= 1 then return -1 end
redis.call('HSET', KEYS[1], 's', 0, 'f', 0)
return 1
`);

/** ARGV: now, probe (1/0), threshold. → from state (to open), or -1. */
const FAILURE = new RedisScript(`${READ}
if s == 0 then
  f = f + 1
  if f < tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'f', f)
    redis.call('PEXPIRE', KEYS[1], ${TTL_MS})
    return -1
  end
  redis.call('HSET', KEYS[1], 's', 2, 'f', f, 'o', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ${TTL_MS})
  return 0
end
if ARGV[2] ~= '1' or s ~= 1 then return -1 end
redis.call('HSET', KEYS[1], 's', 2, 'f', f + 1, 'o', ARGV[1])
return 1
`);

/** ARGV: now, reset ms. A half-open circuit stays half-open, its test request's lease ended. → 1 when released, else -1. */
const RELEASE = new RedisScript(`${READ}
if s ~= 1 then return -1 end
redis.call('HSET', KEYS[1], 'p', tonumber(ARGV[1]) - tonumber(ARGV[2]))
return 1
`);

/** The Redis methods the breaker store uses. */
export type BreakerRedisClient = ScriptClient & { hmget(key: string, ...fields: string[]): Promise<Array<string | null>> };

const toOpen = (from: number): BreakerTransition | undefined => (from < 0 ? undefined : { from: NAMES[from] ?? 'closed', to: 'open' });

/**
 * Circuits in Redis, shared by every process on the same key prefix. Each step is one Lua
 * script, so exactly one caller in the fleet claims the half-open test request.
 */
export class RedisBreakerStore implements BreakerStore {
  readonly #client: BreakerRedisClient;
  readonly #rules: BreakerRules;
  readonly #prefix: string;

  constructor(client: BreakerRedisClient, rules: BreakerRules, keyPrefix: string) {
    this.#client = client;
    this.#rules = rules;
    this.#prefix = keyPrefix;
  }

  async acquire(key: string, now: number): Promise<BreakerDecision> {
    const reply = (await ACQUIRE.run(this.#client, [this.#key(key)], [now, this.#rules.resetMs])) as number[];
    const from = reply[4] ?? -1;
    return {
      allowed: reply[0] === 1,
      probe: reply[1] === 1,
      retryAt: reply[2] ?? 0,
      failures: reply[3] ?? 0,
      transition: from === 2 ? { from: 'open', to: 'half_open' } : undefined,
    };
  }

  async recordSuccess(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    const from = (await SUCCESS.run(this.#client, [this.#key(key)], [now, probe ? 1 : 0])) as number;
    return from === 1 ? { from: 'half_open', to: 'closed' } : undefined;
  }

  async recordFailure(key: string, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    const from = (await FAILURE.run(this.#client, [this.#key(key)], [now, probe ? 1 : 0, this.#rules.failureThreshold])) as number;
    return toOpen(from);
  }

  async releaseProbe(key: string, now: number): Promise<void> {
    await RELEASE.run(this.#client, [this.#key(key)], [now, this.#rules.resetMs]);
  }

  async read(key: string): Promise<BreakerSnapshot> {
    const [s, f, o, p] = await this.#client.hmget(this.#key(key), 's', 'f', 'o', 'p');
    const state = NAMES[Number(s ?? 0)] ?? 'closed';
    const failures = Number(f ?? 0);
    if (state === 'closed') return { state, consecutiveFailures: failures, openedAt: undefined, retryAt: undefined };
    const since = Number((state === 'open' ? o : p) ?? 0);
    return { state, consecutiveFailures: failures, openedAt: Number(o ?? 0), retryAt: since + this.#rules.resetMs };
  }

  #key(key: string): string {
    return `${this.#prefix}cb:${key}`;
  }
}
