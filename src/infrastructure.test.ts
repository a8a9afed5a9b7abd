import { describe, expect, it, vi } from 'vitest';
import { createInfrastructure } from './create-infrastructure.js';
import { DatabaseClosedError } from './db/database-closed-error.js';
import { ConfigError } from './errors/config-error.js';
import { InfrastructureService } from './infrastructure-service.js';
import { captureLogger } from './observability/capture-logger.test-helpers.js';

const env = { DATABASE_URL: 'sqlite::memory:' };

describe('createInfrastructure', () => {
  it('exposes the validated config, validateEnvironment and health', async () => {
    const infra = await createInfrastructure({ env: { ...env, FEATURE_FLAG_NEW_UI: 'true' }, envFile: false });
    expect(infra.config.featureFlags.newUi).toBe(true);
    const status = await infra.validateEnvironment();
    expect(status.isValid).toBe(true);
    expect(status.warnings.map((warning) => warning.variable)).toContain('LLM_PROVIDER');
    const health = await infra.health();
    expect(health.status).toBe('ok');
    expect(health.dependencies.map((dependency) => dependency.name)).toEqual(['config', 'database', 'llm']);
    expect(health.dependencies[1]).toMatchObject({ status: 'ok', required: true });
    await infra.close();
  });

  it('prepares queries over its database, run in the current session, and refuses them once closed', async () => {
    const infra = await createInfrastructure({ env, envFile: false });
    await infra.initDb();
    const count = infra.prepare((db, params: { provider: string }) =>
      db
        .selectFrom('llm_usage')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('provider', '=', params.provider),
    );
    expect(Number((await count.takeFirst({ provider: 'openai' }))?.count)).toBe(0);
    expect(Number((await infra.withSession(() => count.takeFirst({ provider: 'openai' })))?.count)).toBe(0);
    await infra.close();
    await expect(count.execute({ provider: 'openai' })).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(() => infra.prepare((db) => db.selectFrom('llm_usage').select('id'))).toThrow(/closed/);
  });

  it('refuses migrationStatus() once closed, as it refuses initDb()', async () => {
    const infra = await createInfrastructure({ env, envFile: false });
    await infra.initDb();
    await infra.close();
    const closed = /This Groundwork instance is closed; create a new one with createInfrastructure\(\)/;
    expect(() => infra.initDb()).toThrow(closed);
    // Not "the groundwork migrations could not run: driver has already been destroyed".
    expect(() => infra.migrationStatus()).toThrow(closed);
  });

  it('throws a ConfigError naming every bad variable', async () => {
    await expect(createInfrastructure({ env: { DB_POOL_SIZE: 'x', PORT: '-1' }, envFile: false })).rejects.toThrow(ConfigError);
  });

  it('combines dependency checks: a required one down is down, an optional one down is degraded', async () => {
    const infra = await createInfrastructure({ env, envFile: false });
    infra.registerHealthCheck({ name: 'cache', required: false, check: async () => ({ status: 'down', detail: 'unreachable' }) });
    expect((await infra.health()).status).toBe('degraded');
    infra.registerHealthCheck({
      name: 'search-index',
      required: true,
      check: async () => {
        throw new Error('connection refused');
      },
    });
    const report = await infra.health();
    expect(report.status).toBe('down');
    expect(report.dependencies.find((dependency) => dependency.name === 'search-index')).toMatchObject({
      status: 'down',
      detail: 'connection refused',
    });
    await infra.close();
  });

  it('closes everything once, last opened first, even when one fails, and logs the failure without secrets', async () => {
    const { lines, logger } = captureLogger('info');
    const infra = await createInfrastructure({ env, envFile: false, logger });
    const order: string[] = [];
    const first = vi.fn(async () => {
      order.push('first');
    });
    infra.registerCloseable({ name: 'first', close: first });
    infra.registerCloseable({
      name: 'second',
      close: async () => {
        order.push('second');
        throw new Error('could not close redis://:hunter2@cache:6379');
      },
    });
    await Promise.all([infra.close(), infra.close()]);
    await infra.close();
    expect(order).toEqual(['second', 'first']);
    expect(first).toHaveBeenCalledTimes(1);
    expect(lines.join('')).toContain('closing second failed');
    expect(lines.join('')).not.toContain('hunter2');
    expect(infra.closed).toBe(true);
    await expect(infra.health()).rejects.toThrow(/closed/);
  });
});

describe('InfrastructureService', () => {
  it('creates one default instance lazily and resets it', async () => {
    InfrastructureService.configure({ env, envFile: false });
    const first = await InfrastructureService.instance();
    expect(await InfrastructureService.instance()).toBe(first);
    expect((await InfrastructureService.getConfig()).database.dialect).toBe('sqlite');
    expect((await InfrastructureService.validateEnvironment()).isValid).toBe(true);
    expect((await InfrastructureService.getDatabaseSession()).connectionId).toBe('pool');
    expect(await InfrastructureService.withSession(async () => (await InfrastructureService.getDatabaseSession()).connectionId)).toMatch(
      /^sqlite:/,
    );
    await expect(InfrastructureService.getLlmClient()).rejects.toThrow(/OPENAI_API_KEY/);
    await InfrastructureService.reset();
    expect(first.closed).toBe(true);
    InfrastructureService.configure({ env: { PORT: 'nope' }, envFile: false });
    await expect(InfrastructureService.getConfig()).rejects.toThrow(ConfigError);
    await InfrastructureService.reset();
  });
});
