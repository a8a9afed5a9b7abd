import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSource } from '../config/load-config.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { createServer } from './create-server.js';
import { createServiceBackend } from './infrastructure-backend.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-reload-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function secretFile(name: string, value: string): string {
  const path = join(directory, name);
  writeFileSync(path, `${value}\n`);
  return path;
}

describe('reloadSecrets()', () => {
  it('rotates the service’s caller keys, the admin key and a Gemini key given as GOOGLE_API_KEY', async () => {
    const files = {
      GROUNDWORK_API_KEYS_FILE: secretFile('api-keys', 'gw-caller-old-1,gw-caller-kept-2'),
      GROUNDWORK_ADMIN_KEY_FILE: secretFile('admin-key', 'gw-admin-old-000'),
      GOOGLE_API_KEY_FILE: secretFile('google-key', 'AIza-old-google-key'),
    };
    const configSource = new ConfigSource({
      env: { DATABASE_URL: 'sqlite::memory:', LLM_PROVIDER: 'gemini', HOST: '127.0.0.1', PORT: '0', ...files },
      envFile: false,
    });
    const infra = await createInfrastructure({ configSource, logger: silentLogger() });
    const server = createServer(createServiceBackend(infra), infra.config.server, { logger: silentLogger(), metrics: infra.metrics });
    try {
      const address = await server.listen();
      const status = async (key: string) =>
        (await fetch(`http://127.0.0.1:${address.port}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
      expect(await status('gw-caller-old-1')).toBe(200);
      expect(await status('gw-caller-new-3')).toBe(401);
      const adminKey = infra.config.tenants.adminKey;
      const geminiKey = infra.config.llm.gemini.apiKey;

      writeFileSync(files.GROUNDWORK_API_KEYS_FILE, 'gw-caller-kept-2,gw-caller-new-3,gw-caller-new-4\n');
      writeFileSync(files.GROUNDWORK_ADMIN_KEY_FILE, 'gw-admin-new-111\n');
      writeFileSync(files.GOOGLE_API_KEY_FILE, 'AIza-new-google-key\n');
      expect(infra.reloadSecrets().sort()).toEqual(['GOOGLE_API_KEY', 'GROUNDWORK_ADMIN_KEY', 'GROUNDWORK_API_KEYS']);

      expect(await status('gw-caller-old-1')).toBe(401);
      expect(await status('gw-caller-kept-2')).toBe(200);
      expect(await status('gw-caller-new-3')).toBe(200);
      expect(await status('gw-caller-new-4')).toBe(200);
      expect(infra.config.server.apiKeys.map((key) => key.reveal())).toEqual(['gw-caller-kept-2', 'gw-caller-new-3', 'gw-caller-new-4']);
      expect(adminKey?.reveal()).toBe('gw-admin-new-111');
      expect(infra.config.tenants.adminKey).toBe(adminKey);
      expect(geminiKey?.reveal()).toBe('AIza-new-google-key');
      expect(JSON.stringify(infra.config)).not.toContain('gw-caller');
      expect(infra.reloadSecrets()).toEqual([]);
    } finally {
      await server.close();
      await infra.close();
    }
  }, 30_000);

  it('rotates caller keys for a server given a copy of the server settings ({ ...config.server, port })', async () => {
    const keys = secretFile('copied-api-keys', 'gw-caller-copy-old-1');
    const configSource = new ConfigSource({
      env: { DATABASE_URL: 'sqlite::memory:', HOST: '127.0.0.1', GROUNDWORK_API_KEYS_FILE: keys },
      envFile: false,
    });
    const infra = await createInfrastructure({ configSource, logger: silentLogger() });
    const server = createServer(
      createServiceBackend(infra),
      { ...infra.config.server, port: 0 },
      { logger: silentLogger(), metrics: infra.metrics },
    );
    try {
      const address = await server.listen();
      const status = async (key: string) =>
        (await fetch(`http://127.0.0.1:${address.port}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
      expect(await status('gw-caller-copy-old-1')).toBe(200);
      // As many keys as before: the copy holds the same Secret, whose value the reload replaces.
      writeFileSync(keys, 'gw-caller-copy-new-1\n');
      expect(infra.reloadSecrets()).toEqual(['GROUNDWORK_API_KEYS']);
      expect(await status('gw-caller-copy-old-1')).toBe(401);
      expect(await status('gw-caller-copy-new-1')).toBe(200);
    } finally {
      await server.close();
      await infra.close();
    }
  }, 30_000);

  it('does not report a changed DATABASE_URL or REDIS_URL as reloaded: they take effect at the next start', async () => {
    const databaseFile = secretFile('database-url', `sqlite:${join(directory, 'first.db')}`);
    const source = new ConfigSource({ env: { DATABASE_URL_FILE: databaseFile }, envFile: false });
    const config = source.load();
    writeFileSync(databaseFile, `sqlite:${join(directory, 'second.db')}\n`);
    expect(source.reloadSecrets()).toEqual([]);
    expect(source.secretsAwaitingRestart()).toEqual(['DATABASE_URL']);
    expect(config.database.url.reveal()).toBe(`sqlite:${join(directory, 'first.db')}`);
  });

  it('does not report unchanged replica URLs written with spaces after the commas as awaiting a restart', () => {
    const replicas = 'postgres://app@replica-1:5432/app, postgres://app@replica-2:5432/app';
    const source = new ConfigSource({
      env: { DATABASE_URL: 'postgres://app@primary:5432/app', DATABASE_REPLICA_URLS: replicas },
      envFile: false,
    });
    source.load();
    expect(source.reloadSecrets()).toEqual([]);
    expect(source.secretsAwaitingRestart()).toEqual([]);
  });
});
