import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../resilience/resilience.test-helpers.js';
import { type BudgetOwner, budgetLimits, counterExpiresAt } from './budget-limits.js';
import { budgetStoreContract } from './budget-store.cases.js';
import { RedisBudgetStore } from './redis-budget-store.js';

let redis: Awaited<ReturnType<typeof testRedis>>;
let second: Awaited<ReturnType<typeof testRedis>>;

beforeAll(async () => {
  redis = await testRedis();
  second = await testRedis();
});

afterAll(async () => {
  second?.redis.disconnect();
  await redis?.close();
});

budgetStoreContract('Redis', () => ({
  store: new RedisBudgetStore(redis.redis, redis.prefix),
  other: new RedisBudgetStore(second.redis, redis.prefix),
}));

describe('Redis budget counters of ended periods', () => {
  // Redis expires keys by its own clock: the calls' clock must be today's, and the counters named for it.
  const now = Date.now();
  const hash = (counter: string) => `${redis.prefix}budget:{budgets}:${counter}`;
  const owner = (scope: BudgetOwner['scope'], settings: Partial<BudgetOwner['settings']>): BudgetOwner => ({
    scope,
    id: randomUUID(),
    settings: { dailyBudgetUsd: null, monthlyBudgetUsd: null, totalBudgetUsd: null, ...settings },
  });
  const counters = (owners: readonly BudgetOwner[]) => budgetLimits(owners, now).map((limit) => limit.counter);

  it('expire at their period’s end plus the margin when a settlement creates them (Redis lost them, or never had them)', async () => {
    const store = new RedisBudgetStore(redis.redis, redis.prefix);
    const [day, month, total] = counters([
      owner('key', { dailyBudgetUsd: 1 }),
      owner('team', { monthlyBudgetUsd: 1 }),
      owner('key', { totalBudgetUsd: 1 }),
    ]) as [string, string, string];
    expect([day, month]).toEqual([expect.stringContaining(':day:'), expect.stringContaining(':month:')]);
    await store.settle(randomUUID(), [day, month, total], 25, now);
    expect(await redis.redis.pexpiretime(hash(day))).toBe(counterExpiresAt(day));
    expect(await redis.redis.pexpiretime(hash(month))).toBe(counterExpiresAt(month));
    expect(await redis.redis.pttl(hash(total))).toBe(-1);
    expect(await store.read([day, month, total], now)).toEqual([
      { counter: day, spentNano: 25, reservedNano: 0 },
      { counter: month, spentNano: 25, reservedNano: 0 },
      { counter: total, spentNano: 25, reservedNano: 0 },
    ]);
  });

  it('keep the expiry their reservation set when settled', async () => {
    const store = new RedisBudgetStore(redis.redis, redis.prefix);
    const [day] = counters([owner('key', { dailyBudgetUsd: 1 })]) as [string];
    const expiresAt = now + 3_600_000;
    const reservationId = randomUUID();
    await store.reserve({
      reservationId,
      budgets: [{ counter: day, limitNano: 100, expiresAt }],
      amountNano: 50,
      leaseUntil: now + 60_000,
      now,
    });
    await store.settle(reservationId, [day], 30, now);
    expect(await redis.redis.pexpiretime(hash(day))).toBe(expiresAt);
  });

  it('take an expiry that is not a number as none, rather than apply half a reservation', async () => {
    const store = new RedisBudgetStore(redis.redis, redis.prefix);
    const [first, second] = counters([owner('key', { totalBudgetUsd: 1 }), owner('key', { totalBudgetUsd: 1 })]) as [string, string];
    // What the script is handed is whatever the caller's value becomes as text: NaN, or text that is no number at all.
    const budgets = [
      { counter: first, limitNano: 100, expiresAt: Number.NaN },
      { counter: second, limitNano: 100, expiresAt: 'never' as unknown as number },
    ];
    expect(await store.reserve({ reservationId: randomUUID(), budgets, amountNano: 40, leaseUntil: now + 60_000, now })).toMatchObject({
      granted: true,
      amountNano: 40,
    });
    expect(await store.read([first, second], now)).toEqual([
      { counter: first, spentNano: 0, reservedNano: 40 },
      { counter: second, spentNano: 0, reservedNano: 40 },
    ]);
    expect([await redis.redis.pttl(hash(first)), await redis.redis.pttl(hash(second))]).toEqual([-1, -1]);
  });
});
