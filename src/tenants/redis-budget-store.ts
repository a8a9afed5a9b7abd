import { RedisScript, type ScriptClient } from '../resilience/redis-script.js';
import { counterExpiresAt } from './budget-limits.js';
import {
  type BudgetLimit,
  type BudgetState,
  type BudgetStore,
  type ReserveRequest,
  type ReserveResult,
  SETTLED_MARKER_MS,
  type SettleOptions,
} from './budget-store.js';
import type { LedgerSpend } from './ledger-spend.js';

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

/**
 * KEYS: hash, leases per counter. ARGV: now, id, lease until, amount, minimum, then limit,
 * expire-at (0, or anything not a number: never) and whether it must be seeded (1) per counter. Answers {1, grant, committed…}
 * (spent + reserved before this grant, per counter),
 * {0, index, spent, reserved} when a budget has no room, or {2, index} when a counter that must be
 * seeded from the ledger has not been (Redis lost it, or never had it).
 */
const RESERVE = new RedisScript(`${PURGE}
local now, id, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local grant, minimum = tonumber(ARGV[4]), tonumber(ARGV[5])
local n = #KEYS / 2
local spents = {}
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  if ARGV[5 + 3 * i] == '1' and redis.call('HEXISTS', h, 'seeded') == 0 then return {2, i} end
  purge(h, z, now)
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  spents[i] = spent + reserved
  local room = tonumber(ARGV[3 + 3 * i]) - spent - reserved
  if room < grant then grant = room end
  if grant < minimum then return {0, i, spent, reserved} end
end
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('HINCRBY', h, 'reserved', grant)
  redis.call('HSET', h, 'r:' .. id, grant)
  redis.call('ZADD', z, lease, id)
  local expireAt = tonumber(ARGV[4 + 3 * i]) or 0
  if expireAt > 0 then
    redis.call('PEXPIREAT', h, expireAt)
    redis.call('PEXPIREAT', z, expireAt)
  end
end
local out = {1, grant}
for i = 1, n do out[2 + i] = spents[i] end
return out
`);

/**
 * KEYS: hash. ARGV: spent from the ledger, expire-at (0, or anything not a number: never), force (1: set, on demand). Unless
 * forced, a counter already seeded is left alone, and spend settled into it since it was lost is
 * kept when larger than the ledger's (the ledger may not have been written yet).
 */
const SEED = new RedisScript(`
local h, ledger, expireAt, force = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]) or 0, ARGV[3] == '1'
if not force and redis.call('HEXISTS', h, 'seeded') == 1 then return tonumber(redis.call('HGET', h, 'spent') or '0') end
local spent = ledger
if not force then
  local current = tonumber(redis.call('HGET', h, 'spent') or '0')
  if current > spent then spent = current end
end
redis.call('HSET', h, 'spent', spent, 'seeded', 1)
if expireAt > 0 then redis.call('PEXPIREAT', h, expireAt) end
return spent
`);

/**
 * KEYS: hash, leases per counter, then the reservation's settled marker. ARGV: id, spent, once (1:
 * add the spend only where the reservation is still held, its lease not lapsed at `now`), now,
 * how long to remember a settlement with spend (ms; longer when the lease ends later), then
 * expire-at per counter (0, or anything not a number: never), given to a hash the spend creates (Redis lost it, or never had
 * it), which would otherwise be kept for ever. A settlement with spend whose marker exists releases
 * what is left and adds nothing. Answers 1 when applied, 0 when it was applied before.
 */
const SETTLE = new RedisScript(`${PURGE}
local id, spent, once, now, remember = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4] or '0'), tonumber(ARGV[5])
local marker = KEYS[#KEYS]
local repeated = spent > 0 and redis.call('EXISTS', marker) == 1
local leaseEnd = 0
for i = 1, (#KEYS - 1) / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  if once then purge(h, z, now) end
  local held = redis.call('HEXISTS', h, 'r:' .. id) == 1
  local a = tonumber(redis.call('HGET', h, 'r:' .. id) or '0')
  local lease = tonumber(redis.call('ZSCORE', z, id) or '0')
  if lease > leaseEnd then leaseEnd = lease end
  if a ~= 0 then redis.call('HINCRBY', h, 'reserved', -a) end
  redis.call('HDEL', h, 'r:' .. id)
  redis.call('ZREM', z, id)
  if spent > 0 and not repeated and (held or not once) then
    redis.call('HINCRBY', h, 'spent', spent)
    local expireAt = tonumber(ARGV[5 + i]) or 0
    if expireAt > 0 and redis.call('PTTL', h) == -1 then redis.call('PEXPIREAT', h, expireAt) end
  end
end
if repeated then return 0 end
if spent > 0 then
  if leaseEnd - now > remember then remember = leaseEnd - now end
  redis.call('SET', marker, 1, 'PX', math.ceil(remember))
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
  readonly #ledger: LedgerSpend | undefined;
  readonly #seeding = new Map<string, Promise<number>>();

  /**
   * @param ledger Settled spend of a counter by the usage ledger: with it, a spend counter Redis
   *   does not hold (lost in a restart or an eviction, or new) is seeded from the ledger before
   *   its first reservation, so losing Redis cannot reset a budget.
   */
  constructor(client: ScriptClient, keyPrefix: string, ledger?: LedgerSpend) {
    this.#client = client;
    this.#prefix = keyPrefix;
    this.#ledger = ledger;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const args: Array<string | number> = [
      request.now,
      request.reservationId,
      request.leaseUntil,
      request.amountNano,
      Math.min(request.minimumNano ?? request.amountNano, request.amountNano),
    ];
    const seeded = request.budgets.map((budget) => this.#ledger?.covers(budget.counter) === true);
    for (const [index, budget] of request.budgets.entries()) args.push(budget.limitNano, budget.expiresAt ?? 0, seeded[index] ? 1 : 0);
    const keys = this.#keys(request.budgets.map((budget) => budget.counter));
    let reply = (await RESERVE.run(this.#client, keys, args)) as number[];
    // Each counter is seeded at most once per loss; a few rounds cover every counter of a call.
    for (let round = 0; reply[0] === 2 && round <= request.budgets.length; round++) {
      const budget = request.budgets[Number(reply[1]) - 1] as BudgetLimit;
      await this.#seedOnce(budget.counter, budget.expiresAt);
      reply = (await RESERVE.run(this.#client, keys, args)) as number[];
    }
    if (reply[0] === 1) {
      const committedNano = request.budgets.map((_, index) => Number(reply[2 + index] ?? 0));
      return { granted: true, amountNano: Number(reply[1]), committedNano };
    }
    const budget = request.budgets[Number(reply[1]) - 1];
    if (reply[0] !== 0 || budget === undefined) throw new Error(`the budget script answered ${JSON.stringify(reply)}`);
    return {
      granted: false,
      counter: budget.counter,
      limitNano: budget.limitNano,
      spentNano: Number(reply[2]),
      reservedNano: Number(reply[3]),
    };
  }

  async settle(
    reservationId: string,
    counters: readonly string[],
    spentNano: number,
    now?: number,
    options?: SettleOptions,
  ): Promise<void> {
    if (counters.length === 0) return;
    const once = options?.once === true ? 1 : 0;
    const keys = [...this.#keys(counters), `${this.#prefix}budget:{budgets}:settled:${reservationId}`];
    const args = [
      reservationId,
      Math.max(0, Math.ceil(spentNano)),
      once,
      now ?? Date.now(),
      SETTLED_MARKER_MS,
      ...counters.map((counter) => counterExpiresAt(counter) ?? 0),
    ];
    // The script answers 0 when this settlement was applied before (a replay whose first answer was lost): nothing was added.
    await SETTLE.run(this.#client, keys, args);
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

  /** Sets a counter's settled spend to what the ledger says (on demand: after a loss Redis did not notice, or a correction). */
  async rebuild(counter: string, expiresAt: number | undefined): Promise<number> {
    return this.#seed(counter, expiresAt, true);
  }

  /** Seeds a counter before its first reservation: once per counter at a time, however many calls find it unseeded together. */
  #seedOnce(counter: string, expiresAt: number | undefined): Promise<number> {
    let seeding = this.#seeding.get(counter);
    if (seeding === undefined) {
      seeding = this.#seed(counter, expiresAt, false).finally(() => this.#seeding.delete(counter));
      this.#seeding.set(counter, seeding);
    }
    return seeding;
  }

  async #seed(counter: string, expiresAt: number | undefined, force: boolean): Promise<number> {
    if (this.#ledger === undefined) throw new Error('this budget store has no ledger to rebuild from');
    const spentNano = await this.#ledger.spentNano(counter);
    const [hash] = this.#keys([counter]) as [string];
    return Number(await SEED.run(this.#client, [hash], [spentNano, expiresAt ?? 0, force ? 1 : 0]));
  }

  #keys(counters: readonly string[]): string[] {
    return counters.flatMap((counter) => [
      `${this.#prefix}budget:{budgets}:${counter}`,
      `${this.#prefix}budget:{budgets}:${counter}:leases`,
    ]);
  }
}
