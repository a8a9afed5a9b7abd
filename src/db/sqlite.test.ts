import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDatabaseContract } from './database-contract.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-sqlite-'));

runDatabaseContract({
  name: 'SQLite',
  url: () => `sqlite:${join(directory, 'nested', 'app.db')}`,
  shareable: true,
  teardown: async () => rmSync(directory, { recursive: true, force: true }),
});
