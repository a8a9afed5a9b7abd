import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-action-flags-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const env = { DATABASE_URL: `sqlite:${join(directory, 'tenants.db')}` };

async function run(...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('a flag the action does not take', () => {
  it('is refused with exit status 2, named, and nothing is done', async () => {
    const team = await run('teams', 'create', 'alpha', '--expires', '2020-01-01', '--team', 'bogus');
    expect(team.status).toBe(2);
    expect(team.err).toContain('teams create does not take --expires, --team');
    expect((await run('teams', 'list')).out).toBe('No teams.');

    const named = await run('keys', 'create', 'k1', '--name', 'other-name');
    expect(named.status).toBe(2);
    expect(named.err).toContain('Give the name once');
    expect((await run('keys', 'list')).out).toBe('No keys.');

    expect((await run('keys', 'create', 'k1', '--rpm', '20')).status).toBe(0);
    const shown = await run('keys', 'show', 'k1', '--rpm', '10', '--daily', '5');
    expect(shown.status).toBe(2);
    expect(shown.err).toContain('keys show does not take --rpm, --daily');
    expect((await run('keys', 'show', 'k1')).out).toMatch(/20\/-\/-/);

    const listed = await run('teams', 'list', '--team', 'alpha');
    expect(listed.status).toBe(2);
    expect(listed.err).toContain('teams list does not take --team');
  }, 60_000);

  it('is refused by jobs status and jobs list, naming it', async () => {
    const status = await run('jobs', 'status', '--state', 'failed');
    expect(status.status).toBe(2);
    expect(status.err).toContain('status does not take --state');
    const list = await run('jobs', 'list', '--concurrency', '3');
    expect(list.status).toBe(2);
    expect(list.err).toContain('list does not take --concurrency');
    const work = await run('jobs', 'work', '--json');
    expect(work.status).toBe(2);
    expect(work.err).toContain('work does not take --json');
  });
});
