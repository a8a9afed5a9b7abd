import { RedisScript, type ScriptClient } from '../resilience/redis-script.js';
import type { BudgetState, BudgetStore, ReserveRequest, ReserveResult } from './budget-store.js';

/* Each counter is a hash (`spent`, `reserved`, and `r:<id>` per live reservation) and a sorted set of leases (id → expiry). */
const PURGE = `
local function purge(h, z, now)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 200)
  for _, rid in ipairs(expired) do
    local a = tonumber(redis.call('HGET', h, 'r:' .. rid) or '0')
    if a ~= 0 then redis.call('HINCRBY', h, 'reserved', -a) end
    redis.call('HDEL', h, 'r:' .. rid)
    redis.call('ZREM', z, rid)
  end
end
`;

/** KEYS: hash, leases per counter. ARGV: now, id, lease until, amount, minimum, then limit and expire-at (0: never) per counter. */
const RESERVE = new RedisScript(`${PURGE}
local now, id, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local grant, minimum = tonumber(ARGV[4]), tonumber(ARGV[5])
local n = #KEYS / 2
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  purge(h, z, now)
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  local room = tonumber(ARGV[4 + 2 * i]) - spent - reserved
  if room < grant then grant = room end
  if grant < minimum then return {0, i, spent, reserved} end
end
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('HINCRBY', h, 'reserved', grant)
  redis.call('HSET', h, 'r:' .. id, grant)
  redis.call('ZADD', z, lease, id)
  local expireAt = tonumber(ARGV[5 + 2 * i])
  if expireAt > 0 then
    redis.call('PEXPIREAT', h, expireAt)
    redis.call('PEXPIREAT', z, expireAt)
  end
end
return {1, grant}
`);

/** KEYS: hash, leases per counter. ARGV: id, spent. */
const SETTLE = new RedisScript(`
local id, spent = ARGV[1], tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local a = tonumber(redis.call('HGET', h, 'r:' .. id) or '0')
  if a ~= 0 then
    redis.call('HINCRBY', h, 'reserved', -a)
    redis.call('HDEL', h, 'r:' .. id)
  end
  redis.call('ZREM', z, id)
  if spent > 0 then redis.call('HINCRBY', h, 'spent', spent) end
end
return 1
`);

/** KEYS: hash, leases per counter. ARGV: now. Purges lapsed leases, then answers spent and reserved per counter. */
const READ = new RedisScript(`${PURGE}
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  purge(h, z, now)
  out[2 * i - 1] = tonumber(redis.call('HGET', h, 'spent') or '0')
  out[2 * i] = tonumber(redis.call('HGET', h, 'reserved') or '0')
end
return out
`);

/**
 * Budgets in Redis. Every counter of a prefix shares one hash tag, so a Redis Cluster keeps
 * them on one node and a script may touch a key's and its team's counters together.
 */
export class RedisBudgetStore implements BudgetStore {
  readonly #client: ScriptClient;
  readonly #prefix: string;

  constructor(client: ScriptClient, keyPrefix: string) {
    this.#client = client;
    this.#prefix = keyPrefix;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const args: Array<string | number> = [
      request.now,
      request.reservationId,
      request.leaseUntil,
      request.amountNano,
      Math.min(request.minimumNano ?? request.amountNano, request.amountNano),
    ];
    for (const budget of request.budgets) args.push(budget.limitNano, budget.expiresAt ?? 0);
    const reply = (await RESERVE.run(this.#client, this.#keys(request.budgets.map((budget) => budget.counter)), args)) as number[];
    if (reply[0] === 1) return { granted: true, amountNano: Number(reply[1]) };
    const budget = request.budgets[Number(reply[1]) - 1];
    if (budget === undefined) throw new Error(`the budget script answered an unknown counter index ${String(reply[1])}`);
    return {
      granted: false,
      counter: budget.counter,
      limitNano: budget.limitNano,
      spentNano: Number(reply[2]),
      reservedNano: Number(reply[3]),
    };
  }

  async settle(reservationId: string, counters: readonly string[], spentNano: number): Promise<void> {
    if (counters.length === 0) return;
    await SETTLE.run(this.#client, this.#keys(counters), [reservationId, Math.max(0, Math.ceil(spentNano))]);
  }

  async read(counters: readonly string[], now: number): Promise<BudgetState[]> {
    if (counters.length === 0) return [];
    const reply = (await READ.run(this.#client, this.#keys(counters), [now])) as number[];
    return counters.map((counter, index) => ({
      counter,
      spentNano: Number(reply[2 * index] ?? 0),
      reservedNano: Number(reply[2 * index + 1] ?? 0),
    }));
  }

  #keys(counters: readonly string[]): string[] {
    return counters.flatMap((counter) => [
      `${this.#prefix}budget:{budgets}:${counter}`,
      `${this.#prefix}budget:{budgets}:${counter}:leases`,
    ]);
  }
}
