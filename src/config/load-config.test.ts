import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error.js';
import { ConfigSource, loadConfig, validateEnvironment } from './load-config.js';
import { ADMIN_KEY_MIN_LENGTH } from './variables.js';

const CANARY = 'sk-canary-5f2b9c0e1d7a4c33b8e6';

describe('ConfigSource', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'groundwork-config-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('reads .env under the real environment, which wins', () => {
    const envFile = join(directory, '.env');
    writeFileSync(envFile, 'DB_POOL_SIZE=7\nPORT=9000\nFEATURE_FLAG_NEW_UI=true\n');
    const config = loadConfig({ env: { PORT: '9100' }, envFile });
    expect(config.database.poolSize).toBe(7);
    expect(config.server.port).toBe(9100);
    expect(config.featureFlags.newUi).toBe(true);
  });

  it('refuses a .env line that is not NAME=value, which would swallow the variable after it, naming the line and not its text', () => {
    const envFile = join(directory, '.env');
    // A key pasted alone on a line, and a variable written with a space for its =.
    writeFileSync(envFile, `DB_POOL_SIZE=7\n${CANARY}\nPORT=9000\n# a comment\nLOG_LEVEL debug\n\nDEBUG=true\n`);
    const status = validateEnvironment({ env: {}, envFile });
    expect(status.isValid).toBe(false);
    expect(status.errors).toEqual([
      { variable: '.env', message: 'line 2 is not NAME=value, so PORT (line 3) was not read' },
      { variable: '.env', message: 'line 5 is not NAME=value, so DEBUG (line 7) was not read' },
    ]);
    expect(JSON.stringify(status)).not.toContain(CANARY);
  });

  it('ignores a missing .env file and can be told to read none', () => {
    expect(loadConfig({ env: {}, envFile: join(directory, 'absent.env') }).server.port).toBe(8080);
    writeFileSync(join(directory, '.env'), 'PORT=1');
    expect(loadConfig({ env: {}, envFile: false }).server.port).toBe(8080);
  });

  it('throws one ConfigError that names every invalid variable', () => {
    const error = (() => {
      try {
        loadConfig({ env: { DB_POOL_SIZE: '0', PORT: 'http' }, envFile: false });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.variable).sort()).toEqual(['DB_POOL_SIZE', 'PORT']);
    expect((error as ConfigError).message).toContain('DB_POOL_SIZE: must be between 1 and 1000');
  });

  it('refuses an admin key too short to withstand guessing, without echoing it', () => {
    const short = 'admin-secret';
    const error = (() => {
      try {
        loadConfig({ env: { GROUNDWORK_ADMIN_KEY: short }, envFile: false });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`GROUNDWORK_ADMIN_KEY: must be at least ${ADMIN_KEY_MIN_LENGTH} characters`);
    expect((error as ConfigError).message).not.toContain(short);
    const key = 'gw-admin-long-enough-0a1b2c';
    expect(loadConfig({ env: { GROUNDWORK_ADMIN_KEY: key }, envFile: false }).tenants.adminKey?.reveal()).toBe(key);
  });

  it('reads secrets from *_FILE and rotates them in place with reloadSecrets()', () => {
    const keyFile = join(directory, 'openai_key');
    writeFileSync(keyFile, 'sk-first-key-000000000000\n');
    const source = new ConfigSource({ env: { OPENAI_API_KEY_FILE: keyFile }, envFile: false });
    const config = source.load();
    const key = config.llm.openai.apiKey;
    expect(key?.reveal()).toBe('sk-first-key-000000000000');
    expect(config.llm.configured).toBe(true);
    expect(source.reloadSecrets()).toEqual([]);

    writeFileSync(keyFile, 'sk-second-key-11111111111\n');
    expect(source.reloadSecrets()).toEqual(['OPENAI_API_KEY']);
    expect(key?.reveal()).toBe('sk-second-key-11111111111');
    expect(source.load()).toBe(config);
  });

  it('refuses to reload an admin key shorter than a start accepts, keeping the old one', () => {
    const env: Record<string, string> = { GROUNDWORK_ADMIN_KEY: 'gw-admin-long-enough-0a1b2c' };
    const source = new ConfigSource({ env, envFile: false });
    const adminKey = source.load().tenants.adminKey;
    env.GROUNDWORK_ADMIN_KEY = 'admin-secret';
    expect(() => source.reloadSecrets()).toThrow(`GROUNDWORK_ADMIN_KEY: must be at least ${ADMIN_KEY_MIN_LENGTH} characters`);
    expect(adminKey?.reveal()).toBe('gw-admin-long-enough-0a1b2c');
    env.GROUNDWORK_ADMIN_KEY = 'gw-admin-rotated-long-3d4e5f';
    expect(source.reloadSecrets()).toEqual(['GROUNDWORK_ADMIN_KEY']);
    expect(adminKey?.reveal()).toBe('gw-admin-rotated-long-3d4e5f');
  });

  it('keeps the old secret and says which file failed when a secret file disappears', () => {
    const keyFile = join(directory, 'key');
    writeFileSync(keyFile, 'sk-kept-key-0000000000000');
    const source = new ConfigSource({ env: { OPENAI_API_KEY_FILE: keyFile }, envFile: false });
    const key = source.load().llm.openai.apiKey;
    rmSync(keyFile);
    expect(() => source.reloadSecrets()).toThrow(/OPENAI_API_KEY_FILE: names a file that cannot be read \(ENOENT\)/);
    expect(key?.reveal()).toBe('sk-kept-key-0000000000000');
  });

  it('answers variables() from the environment the configuration was read from, reading no file again', () => {
    const envFile = join(directory, '.env');
    const keyFile = join(directory, 'openai_key');
    writeFileSync(envFile, 'EU_DEPLOYMENT_KEY=sk-eu-first\n');
    writeFileSync(keyFile, 'sk-first-key-000000000000\n');
    const source = new ConfigSource({ env: { OPENAI_API_KEY_FILE: keyFile }, envFile });
    source.load();
    writeFileSync(envFile, 'EU_DEPLOYMENT_KEY=sk-eu-second\n');
    rmSync(keyFile);
    // The files changed (one is gone): the variables are still those the configuration was built from.
    expect(source.variables()).toMatchObject({ EU_DEPLOYMENT_KEY: 'sk-eu-first', OPENAI_API_KEY: 'sk-first-key-000000000000' });
    expect(source.variables()).toBe(source.variables());
    // A reload of the secrets is what reads them again.
    writeFileSync(keyFile, 'sk-second-key-11111111111\n');
    expect(source.reloadSecrets()).toEqual(['OPENAI_API_KEY']);
    expect(source.variables()).toMatchObject({ OPENAI_API_KEY: 'sk-second-key-11111111111' });
  });

  it('rejects a secret set both directly and as a file', () => {
    const keyFile = join(directory, 'key');
    writeFileSync(keyFile, 'x');
    const status = validateEnvironment({ env: { OPENAI_API_KEY: CANARY, OPENAI_API_KEY_FILE: keyFile }, envFile: false });
    expect(status.isValid).toBe(false);
    expect(status.errors.map((error) => error.variable)).toEqual(['OPENAI_API_KEY_FILE']);
    expect(JSON.stringify(status)).not.toContain(CANARY);
  });

  it('rejects a secret set both directly and as a file in .env, as in the environment', () => {
    const envFile = join(directory, '.env');
    const keyFile = join(directory, 'key');
    writeFileSync(keyFile, 'sk-from-the-file-0000000000');
    writeFileSync(envFile, `OPENAI_API_KEY=${CANARY}\nOPENAI_API_KEY_FILE=${keyFile}\n`);
    const status = validateEnvironment({ env: {}, envFile });
    expect(status.isValid).toBe(false);
    expect(status.errors).toEqual([expect.objectContaining({ variable: 'OPENAI_API_KEY_FILE', message: expect.stringContaining('.env') })]);
    expect(JSON.stringify(status)).not.toContain(CANARY);
  });

  it('lets the real environment win over .env between a secret and its file, either way round', () => {
    const envFile = join(directory, '.env');
    const keyFile = join(directory, 'key');
    writeFileSync(keyFile, 'sk-from-the-file-0000000000\n');
    // The environment's value over .env's file.
    writeFileSync(envFile, `OPENAI_API_KEY_FILE=${keyFile}\n`);
    const direct = loadConfig({ env: { OPENAI_API_KEY: CANARY }, envFile });
    expect(direct.llm.openai.apiKey?.reveal()).toBe(CANARY);
    // The environment's file over .env's value.
    writeFileSync(envFile, `OPENAI_API_KEY=${CANARY}\n`);
    const fromFile = loadConfig({ env: { OPENAI_API_KEY_FILE: keyFile }, envFile });
    expect(fromFile.llm.openai.apiKey?.reveal()).toBe('sk-from-the-file-0000000000');
  });

  it('never shows a secret when the config is printed, inspected, serialised or thrown', () => {
    const config = loadConfig({
      env: {
        OPENAI_API_KEY: CANARY,
        DATABASE_URL: `postgres://app:${CANARY}@127.0.0.1/app`,
        REDIS_URL: `redis://:${CANARY}@127.0.0.1:6379`,
        GROUNDWORK_API_KEYS: CANARY,
      },
      envFile: false,
    });
    expect(config.llm.openai.apiKey?.reveal()).toBe(CANARY);
    const renderings = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.llm.openai.apiKey),
      `${config.database.url}`,
      config.database.displayUrl,
      config.redis.displayUrl ?? '',
    ];
    for (const rendering of renderings) expect(rendering).not.toContain(CANARY);
    const invalid = validateEnvironment({ env: { OPENAI_API_KEY: CANARY, DATABASE_URL: `mysql://u:${CANARY}@h/db` }, envFile: false });
    expect(JSON.stringify(invalid)).not.toContain(CANARY);
    expect(() => loadConfig({ env: { DATABASE_URL: `mysql://u:${CANARY}@h/db` }, envFile: false })).toThrow(ConfigError);
    try {
      loadConfig({ env: { DATABASE_URL: `mysql://u:${CANARY}@h/db` }, envFile: false });
    } catch (error) {
      expect(String(error)).not.toContain(CANARY);
      expect(inspect(error)).not.toContain(CANARY);
    }
  });
});

describe('ConfigError.isInstance', () => {
  it('recognises configuration errors and nothing else', async () => {
    const { GroundworkError } = await import('../errors/groundwork-error.js');
    const error = (() => {
      try {
        loadConfig({ env: { PORT: 'x' }, envFile: false });
      } catch (caught) {
        return caught;
      }
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect(ConfigError.isInstance(new GroundworkError('other', 'not config'))).toBe(false);
    expect(ConfigError.isInstance(new Error('plain'))).toBe(false);
  });
});
