import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-migrate-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('groundwork migrate', () => {
  it('lists pending migrations, applies them once, reverts the latest', async () => {
    const env = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };
    const status = recordingIo(env);
    expect(await main(['migrate', 'status'], status)).toBe(0);
    expect(status.stdout.join('\n')).toMatch(/pending\s+groundwork/);

    const up = recordingIo(env);
    expect(await main(['migrate'], up)).toBe(0);
    expect(up.stdout.join('\n')).toMatch(/applied\s+groundwork/);

    const again = recordingIo(env);
    expect(await main(['migrate', 'up'], again)).toBe(0);
    expect(again.stdout.join('\n')).toContain('Nothing to do');

    const json = recordingIo(env);
    expect(await main(['migrate', 'status', '--json'], json)).toBe(0);
    const states = JSON.parse(json.stdout.join('\n')) as Array<{ executedAt?: string }>;
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((state) => state.executedAt !== undefined)).toBe(true);

    const down = recordingIo(env);
    expect(await main(['migrate', 'down'], down)).toBe(0);
    expect(down.stdout.join('\n')).toMatch(/reverted\s+groundwork/);
  });

  it('rejects an unknown action', async () => {
    const io = recordingIo({ DATABASE_URL: 'sqlite::memory:' });
    expect(await main(['migrate', 'sideways'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('use up, down or status');
  });

  it('fails with a clear, secret-free message when the database is unreachable', async () => {
    const io = recordingIo({ DATABASE_URL: 'postgres://app:s3cr3t-pw@127.0.0.1:1/app', DB_ACQUIRE_TIMEOUT_MS: '2000' });
    expect(await main(['migrate', 'status'], io)).toBe(1);
    const output = [...io.stdout, ...io.stderr].join('\n');
    expect(output).not.toContain('s3cr3t-pw');
    expect(output).toMatch(/✘/);
  });
});
