import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { createLogger } from './logger.js';
import { scrubSecrets } from './redact.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, destination };
}

const CANARY = 'canary-7c1f0e3a9b2d4e58';

describe('createLogger', () => {
  it('writes JSON at the configured level with a child per capability', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', format: 'json' }, { destination });
    logger.debug('hidden');
    logger.child({ component: 'db' }).info({ poolSize: 5 }, 'pool ready');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'info',
      component: 'db',
      poolSize: 5,
      msg: 'pool ready',
      name: 'groundwork',
    });
  });

  it('redacts secret fields, secrets inside strings, URL passwords and bearer tokens', () => {
    const { lines, destination } = capture();
    const secret = new Secret('OPENAI_API_KEY', CANARY);
    const logger = createLogger({ level: 'info', format: 'json' }, { destination });
    logger.info(
      { apiKey: 'plain-field-value', headers: { authorization: 'Bearer abc.def' }, url: 'postgres://app:pw123@db/app', secret },
      `calling with ${CANARY}`,
    );
    logger.error({ err: new Error(`failed for key ${CANARY} at redis://:pw456@cache:6379`) }, 'call failed');
    // Built at run time: a made-up key in the shape of a provider's, not a real one.
    const keyShaped = ['sk', 'abcdefghijklmnopqrstuvwxyz'].join('-');
    logger.info(`header was Bearer ${keyShaped}`);
    const output = lines.join('\n');
    for (const leaked of [CANARY, 'plain-field-value', 'abc.def', 'pw123', 'pw456', keyShaped]) expect(output).not.toContain(leaked);
    expect(output).toContain('[redacted]');
    expect(output).toContain('postgres://app:***@db/app');
    expect(JSON.parse(lines[1] as string).err.message).toContain('failed for key [redacted]');
    expect(secret.reveal()).toBe(CANARY);
  });
});

describe('log destinations', () => {
  it('writes to stderr when asked, leaving stdout to a command’s own output', () => {
    const script = `import { createLogger } from './src/observability/logger.ts';
      createLogger({ level: 'info', format: 'json' }, { destination: 'stderr' }).info('to stderr');
      createLogger({ level: 'info', format: 'json' }).info('to stdout');`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('"msg":"to stderr"');
    expect(result.stdout).toContain('"msg":"to stdout"');
    expect(result.stdout).not.toContain('to stderr');
  });
});

describe('scrubSecrets', () => {
  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('nothing secret here: http://example.com/a?b=c')).toBe('nothing secret here: http://example.com/a?b=c');
  });
});
