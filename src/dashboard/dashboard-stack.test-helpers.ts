import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCommand } from '../cli/commands/serve.js';
import type { CommandIo } from '../cli/output.js';
import { createDatabase } from '../db/create-database.js';
import type { Database } from '../db/database.js';
import { databaseConfig } from '../db/database-contract.test-helpers.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';

/** The dashboard's admin key in these tests. */
export const ADMIN_KEY = 'gw-admin-dashboard-test-5d1c9e';

/** A real `groundwork serve` (the CLI command, in process) over a SQLite file, in front of the fake provider. */
export interface DashboardStack {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  fake: FakeProviderServer;
  /** A second connection to the service's database, to seed and check the ledger. */
  database: Database<GroundworkTables>;
  /** What serve printed. */
  output: string[];
  close(): Promise<void>;
}

/** Starts serve with virtual keys and the admin key on an ephemeral port; `env` overrides the defaults. */
export async function startDashboardStack(env: Record<string, string> = {}): Promise<DashboardStack> {
  const fake = await startFakeProviderServer();
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-dashboard-'));
  const databaseUrl = `sqlite:${join(directory, 'groundwork.db')}`;
  const output: string[] = [];
  let listening: (url: string) => void = () => {};
  const started = new Promise<string>((resolve) => {
    listening = resolve;
  });
  const io: CommandIo = {
    out: (text) => output.push(text),
    err: (text) => {
      output.push(text);
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1] !== undefined) listening(match[1]);
    },
    isTty: false,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-upstream-dashboard-secret',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_MAX_ATTEMPTS: '1',
      LLM_LEDGER_FLUSH_MS: '20',
      HOST: '127.0.0.1',
      PORT: '0',
      GROUNDWORK_VIRTUAL_KEYS: 'true',
      GROUNDWORK_ADMIN_KEY: ADMIN_KEY,
      ...env,
    },
  };
  let stop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const finished = serveCommand(io, { stopped, dispose: () => {} });
  const url = await Promise.race([
    started,
    finished.then((code) => {
      throw new Error(`serve exited with ${code}: ${output.join('\n')}`);
    }),
  ]);
  const database = await createDatabase<GroundworkTables>(databaseConfig(databaseUrl, { poolSize: 1 }), { logger: silentLogger() });
  return {
    url,
    fake,
    database,
    output,
    async close() {
      stop('SIGTERM');
      await finished;
      await database.close();
      await fake.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
