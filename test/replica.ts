import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './node-process.js';
import { postgresUrl } from './services.js';

/*
 * A real streaming replica of the test PostgreSQL server, for the read-replica tests and the
 * replicas benchmark: `pg_basebackup -R -X stream` into a temporary folder, then `pg_ctl start`
 * on a free port. The server refuses to run as root, so as root both run as the `postgres` user
 * (through `runuser`). The primary must allow replication connections from loopback (`.ci/run`
 * adds the pg_hba.conf line). Basebackup takes a few seconds: share one replica across a file.
 */

const run = promisify(execFile);

/** A running replica: its URL, and how to stop, restart and remove it. */
export interface TestReplica {
  /** `postgres://user@127.0.0.1:PORT/DATABASE`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (`immediate`: as if it crashed). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again after {@link TestReplica.stop}; it resumes streaming. */
  start(): Promise<void>;
  /** Runs one statement on the replica (`select pg_wal_replay_pause()`) and answers its rows. */
  query<R = Record<string, unknown>>(statement: string): Promise<R[]>;
  /** Stops the server if it runs and removes its folder. Idempotent; never throws. */
  remove(): Promise<void>;
}

/** The newest installed PostgreSQL's binaries (Debian's layout), or those on PATH. */
function binaries(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return '';
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? '' : join(root, versions[0], 'bin');
}

/** Runs a PostgreSQL tool, as `postgres` when this process is root (the server refuses root). */
async function tool(name: string, args: string[]): Promise<string> {
  const bin = binaries();
  const path = bin === '' ? name : join(bin, name);
  const asRoot = process.getuid?.() === 0;
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  try {
    const { stdout } = await run(command, argv, { timeout: 120_000 });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

/** The primary's settings a hot standby must match or exceed, as `name = value` lines. */
async function primarySettings(): Promise<string[]> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in
         ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')`,
    );
    return rows.map((row) => `${row.name} = ${row.setting}`);
  } finally {
    await client.end();
  }
}

/**
 * Makes a streaming replica of the test server and starts it. `database` is the database its
 * URL names (the whole cluster is replicated). Call `remove()` in teardown.
 */
export async function startReplica(database: string): Promise<TestReplica> {
  const primary = new URL(postgresUrl());
  const dir = await mkdtemp(join(tmpdir(), 'groundwork-replica-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(group.trim()));
  }
  const port = await freePort();
  let running = false;
  const start = async (): Promise<void> => {
    // Marked before the wait: a server that started but did not answer in time is still stopped by remove().
    running = true;
    await tool('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port} -k ${dir}`, 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (!running) return;
    await tool('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    running = false;
  };
  const remove = async (): Promise<void> => {
    try {
      await stop('immediate');
    } catch {
      // Already stopped, or never started: the folder goes either way.
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // `-c fast`: an immediate checkpoint, not a spread one (which takes minutes on an idle server).
    await tool('pg_basebackup', [
      '-h',
      primary.hostname,
      '-p',
      primary.port || '5432',
      '-U',
      decodeURIComponent(primary.username || 'postgres'),
      '-D',
      data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    // Debian keeps the server's configuration out of the data folder: the replica gets its own. A
    // standby refuses to start with fewer connections, workers or locks than its primary has.
    const config = [
      'hot_standby = on',
      "listen_addresses = '127.0.0.1'",
      ...(await primarySettings()),
      'shared_buffers = 16MB',
      'fsync = off',
      'autovacuum = off',
      'hot_standby_feedback = off',
      'wal_receiver_status_interval = 1s',
      '',
    ].join('\n');
    await writeFile(join(data, 'postgresql.conf'), config);
    await writeFile(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', join(data, 'postgresql.conf'), join(data, 'pg_hba.conf')]);
    await start();
  } catch (error) {
    await remove();
    throw error;
  }
  const url = new URL(postgresUrl());
  url.port = String(port);
  url.hostname = '127.0.0.1';
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    port,
    stop,
    start,
    remove,
    async query<R>(statement: string): Promise<R[]> {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(statement)).rows as R[];
      } finally {
        await client.end();
      }
    },
  };
}
