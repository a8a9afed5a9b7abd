import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase } from '../../test/services.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(async () => {
  await fake.close();
});

/** PostgreSQL, and the embedded default (a SQLite file). */
const TARGETS: ReadonlyArray<{ name: string; open(): Promise<{ url: string; drop(): Promise<void> }> }> = [
  { name: 'PostgreSQL', open: () => freshPostgresDatabase('gw_ledger_nul') },
  {
    name: 'SQLite',
    async open() {
      const directory = mkdtempSync(join(tmpdir(), 'groundwork-ledger-'));
      return { url: `sqlite:${join(directory, 'app.db')}`, drop: async () => rmSync(directory, { recursive: true, force: true }) };
    },
  },
];

describe.each(TARGETS)('the usage ledger of the library on $name', (target) => {
  it("records a call whose model name holds a NUL, and every other call's row of the same batch", async () => {
    const database = await target.open();
    try {
      const infra = await createInfrastructure({
        env: {
          DATABASE_URL: database.url,
          LLM_PROVIDER: 'openai',
          OPENAI_API_KEY: 'sk-test-000000000000',
          OPENAI_BASE_URL: fake.openaiBaseUrl,
          LLM_MAX_ATTEMPTS: '1',
          LLM_LEDGER_FLUSH_MS: '60000',
          LLM_CACHE: 'off',
        },
        envFile: false,
        logger: silentLogger(),
      });
      try {
        await infra.initDb();
        for (let index = 0; index < 5; index++) {
          await infra.llm.complete(
            { messages: [{ role: 'user', content: `hello ${index}` }] },
            { attribution: { keyId: 'key_paying', teamId: null } },
          );
        }
        // What a caller of `serve` may send as {"model": "gpt-4o-mini\u0000"}: valid JSON, a non-empty string.
        await infra.llm.complete({ model: 'gpt-4o-mini\u0000', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
        await infra.llm.flush();
        const rows = await infra.db.selectFrom('llm_usage').select(['key_id', 'model']).orderBy('id').execute();
        expect(rows.filter((row) => row.key_id === 'key_paying')).toHaveLength(5);
        expect(rows.map((row) => row.model)).toContain('gpt-4o-mini\uFFFD');
      } finally {
        await infra.close();
      }
    } finally {
      await database.drop();
    }
  });
});
