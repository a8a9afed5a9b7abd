import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { redisUrl, uniqueName } from '../../test/services.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../observability/logger.js';
import { createTenantServices } from './create-tenant-services.js';
import { DatabaseBudgetStore } from './database-budget-store.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import type { TenantCaller } from './tenant-admission.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-replicas-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('tenant services on two replicas', () => {
  it('makes a revocation on one replica effective on the other within seconds, though keys are cached for a minute', async () => {
    const env = {
      DATABASE_URL: `sqlite:${join(directory, 'shared.db')}`,
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: `${uniqueName('gwtest')}:`,
      TENANT_KEY_CACHE_TTL_MS: '60000',
    };
    const first = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
    const second = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
    await first.initDb();
    const here = createTenantServices(first, { listen: true });
    const there = createTenantServices(second, { listen: true });
    try {
      expect(await there.listening(10_000)).toBe(true);
      const { plainKey } = await here.repository.createKey({ name: 'replicated' });
      expect((await there.directory.resolve(plainKey.reveal()))?.key.revokedAt).toBeNull();
      await here.repository.revokeKey('replicated');
      const revokedAt = Date.now();
      // One announcement, sent once the other replica listens, is enough.
      expect(await here.changed()).toBe(true);
      await vi.waitFor(async () => expect((await there.directory.resolve(plainKey.reveal()))?.key.revokedAt).toBeInstanceOf(Date), {
        timeout: 10_000,
        interval: 50,
      });
      expect(Date.now() - revokedAt).toBeLessThan(10_000);
    } finally {
      here.close();
      there.close();
      await first.close();
      await second.close();
    }
  });
});

describe('tenant services at close', () => {
  it('try the budget settlements the store refused once more, and drop those still refused with a log line', async () => {
    const log = captureLogger();
    const infra = await createInfrastructure({
      env: { DATABASE_URL: `sqlite:${join(directory, 'closing.db')}` },
      envFile: false,
      logger: log.logger,
    });
    await infra.initDb();
    const tenants = createTenantServices(infra);
    const failing = vi
      .spyOn(DatabaseBudgetStore.prototype, 'settle')
      .mockRejectedValue(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
    try {
      const { plainKey } = await tenants.repository.createKey({ name: 'closing', totalBudgetUsd: 1 });
      const caller = (await tenants.directory.resolve(plainKey.reveal())) as TenantCaller;
      const admission = await tenants.admission.admit(caller, {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
        maxTokens: 16,
      });
      await admission.settle(0.001, 20);
      expect(tenants.admission.keptSettlements).toBe(1);
      await tenants.close();
      // Tried once more at close (the second failure), then dropped, said once, with its count.
      expect(failing).toHaveBeenCalledTimes(2);
      expect(tenants.admission.keptSettlements).toBe(0);
      const dropped = log.records.filter((record) => String(record.msg).includes('the process is closing'));
      expect(dropped).toEqual([expect.objectContaining({ kept: 1 })]);
    } finally {
      failing.mockRestore();
      await infra.close();
    }
  });

  it('with Redis, try the settlements Redis missed once more, and drop those it still refuses with a log line and their count', async () => {
    const log = captureLogger();
    const infra = await createInfrastructure({
      env: {
        DATABASE_URL: `sqlite:${join(directory, 'closing-redis.db')}`,
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: `${uniqueName('gwtest')}:`,
      },
      envFile: false,
      logger: log.logger,
    });
    await infra.initDb();
    const tenants = createTenantServices(infra);
    const failing = vi.spyOn(RedisBudgetStore.prototype, 'settle').mockRejectedValue(new Error('Connection is closed.'));
    const failures = async () =>
      (await infra.metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
    try {
      const { plainKey } = await tenants.repository.createKey({ name: 'closing-redis', totalBudgetUsd: 1 });
      const caller = (await tenants.directory.resolve(plainKey.reveal())) as TenantCaller;
      const admission = await tenants.admission.admit(caller, {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
        maxTokens: 16,
      });
      await admission.settle(0.001, 20);
      const before = await failures();
      await tenants.close();
      // Tried once more at close (the second failure), then dropped, said once, with its count.
      expect(failing).toHaveBeenCalledTimes(2);
      const dropped = log.records.filter((record) => String(record.msg).includes('Redis did not take them'));
      expect(dropped).toEqual([expect.objectContaining({ kept: 1, spentNano: 1_000_000 })]);
      expect(await failures()).toBe(before + 1);
    } finally {
      failing.mockRestore();
      await infra.close();
    }
  });
});
