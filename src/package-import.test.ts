import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../test/node-process.js';

const RECORD_IMPORTS = fileURLToPath(new URL('../test/record-imports.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

describe("import('groundwork')", () => {
  it('loads no provider SDK and no LLM client (createInfrastructure loads them while the database opens)', async () => {
    const result = await runNode(ENTRY, [], { nodeArgs: ['--import', RECORD_IMPORTS] });
    expect(result.code).toBe(0);
    const loaded = result.stderr.split('\n').filter((line) => line.startsWith('loaded '));
    // The recorder works: the entry itself and the query builder it re-exports were seen.
    expect(loaded.some((line) => line.endsWith('/src/index.ts'))).toBe(true);
    expect(loaded.some((line) => line.includes('/node_modules/kysely/'))).toBe(true);
    expect(
      loaded.filter((line) => /\/node_modules\/(openai|@anthropic-ai\/sdk)\/|\/src\/llm\/(llm-client|providers\/)/.test(line)),
    ).toEqual([]);
  });
});
