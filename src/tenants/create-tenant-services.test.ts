import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { redisUrl, uniqueName } from '../../test/services.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { createTenantServices } from './create-tenant-services.js';

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
