import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPostgresDatabase } from '../../test/services.js';

/** A database for a jobs suite: its URL, and how to drop it. */
export interface JobsDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A backend the jobs suites run on. */
export interface JobsTarget {
  readonly name: string;
  readonly engine: 'pg-boss' | 'table';
  create(): Promise<JobsDatabase>;
}

/** A SQLite file in a fresh folder (a file, so other processes can open it too). */
export const sqliteJobsTarget: JobsTarget = {
  name: 'SQLite',
  engine: 'table',
  async create() {
    const directory = mkdtempSync(join(tmpdir(), 'groundwork-jobs-'));
    return { url: `sqlite:${join(directory, 'jobs.db')}`, drop: async () => rmSync(directory, { recursive: true, force: true }) };
  },
};

/** An in-memory PGlite (one process only). */
export const pgliteJobsTarget: JobsTarget = {
  name: 'PGlite',
  engine: 'table',
  async create() {
    return { url: 'pglite:memory', drop: async () => {} };
  },
};

/** A fresh database on the test PostgreSQL server, dropped with its connections. */
export const postgresJobsTarget: JobsTarget = {
  name: 'PostgreSQL',
  engine: 'pg-boss',
  create: () => freshPostgresDatabase('gw_jobs'),
};

/** Every backend. */
export const JOBS_TARGETS: readonly JobsTarget[] = [sqliteJobsTarget, pgliteJobsTarget, postgresJobsTarget];

/** The backends every case runs on; PGlite, slow to start, runs the main cases only. */
export const FULL_JOBS_TARGETS: readonly JobsTarget[] = [sqliteJobsTarget, postgresJobsTarget];
