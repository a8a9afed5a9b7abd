import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-doctor-files-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const embedded = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };

async function doctor(env: Record<string, string>) {
  const io = recordingIo({ ...embedded, ...env });
  const status = await main(['doctor', '--json'], io);
  return { status, report: JSON.parse(io.stdout.join('\n')) as { ok: boolean; checks: Array<{ name: string; outcome: string }> } };
}

describe('groundwork doctor, on the files the configuration names', () => {
  it('fails on a DB_MIGRATIONS_DIR that is not there, which groundwork migrate and serve fail on', async () => {
    const { status, report } = await doctor({ DB_MIGRATIONS_DIR: join(directory, 'no-such-folder') });
    expect(status).toBe(1);
    expect(report.checks).toContainEqual(
      expect.objectContaining({ name: 'DB_MIGRATIONS_DIR', outcome: 'fail', summary: 'names a folder that cannot be read (ENOENT)' }),
    );
  });

  it('fails on a DB_MIGRATIONS_DIR that is a file', async () => {
    const file = join(directory, 'migrations.js');
    writeFileSync(file, '');
    const { status, report } = await doctor({ DB_MIGRATIONS_DIR: file });
    expect(status).toBe(1);
    expect(report.checks).toContainEqual(
      expect.objectContaining({ name: 'DB_MIGRATIONS_DIR', outcome: 'fail', summary: 'names a file, not a folder' }),
    );
  });

  it('passes on a DB_MIGRATIONS_DIR that is a folder', async () => {
    const folder = join(directory, 'migrations');
    mkdirSync(folder, { recursive: true });
    const { status, report } = await doctor({ DB_MIGRATIONS_DIR: folder });
    expect(status).toBe(0);
    expect(report.checks.map((check) => check.name)).not.toContain('DB_MIGRATIONS_DIR');
  });
});

describe('groundwork doctor, on DB_SSL_CA', () => {
  it('names DB_SSL_CA when the CA file of a PostgreSQL database is not there', async () => {
    const io = recordingIo({ DATABASE_URL: 'postgres://app@127.0.0.1:1/app', DB_SSL_CA: join(directory, 'no-such-ca.pem') });
    expect(await main(['doctor', '--json'], io)).toBe(1);
    const report = JSON.parse(io.stdout.join('\n')) as { checks: Array<{ name: string; outcome: string; summary: string }> };
    expect(report.checks).toContainEqual(
      expect.objectContaining({ name: 'DB_SSL_CA', outcome: 'fail', summary: 'names a file that cannot be read (ENOENT)' }),
    );
  });

  it('leaves DB_SSL_CA alone beside SQLite, which reads no CA', async () => {
    const { status, report } = await doctor({ DB_SSL_CA: join(directory, 'no-such-ca.pem') });
    expect(status).toBe(0);
    expect(report.checks.map((check) => check.name)).not.toContain('DB_SSL_CA');
  });
});
