import { readFileSync } from 'node:fs';
import { sql as kyselySql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REQUIRE_ESM_NODE_VERSIONS, requireFailure, requirePackage } from './require-package.js';

describe('requirePackage', () => {
  it('gives the instance import() gives, not a second copy', () => {
    expect(requirePackage<typeof import('zod')>('zod', 'a test').z).toBe(z);
    expect(requirePackage<typeof import('kysely')>('kysely', 'a test').sql).toBe(kyselySql);
  });

  it('says which function needed which package when it cannot be loaded, keeping the cause', () => {
    let failure: unknown;
    try {
      requirePackage('groundwork-no-such-package', 'definePrompt');
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^definePrompt needs the package groundwork-no-such-package, which could not be loaded/);
    expect((failure as Error).message).toMatch(/await that first\.$/);
    expect((failure as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it("names the Node versions needed when this Node's require() cannot load ES modules", () => {
    const cause = Object.assign(
      new Error('require() of ES Module /app/node_modules/kysely/dist/esm/index.js not supported.\nInstead change…'),
      {
        code: 'ERR_REQUIRE_ESM',
      },
    );
    const failure = requireFailure('kysely', 'sql', cause);
    expect(failure.message).toMatch(/^sql needs the package kysely, an ES module, which this Node \(v[\d.]+\) cannot load synchronously/);
    expect(failure.message).toContain('Groundwork needs Node ^20.19.0 || >=22.12.0');
    expect(failure.message).not.toContain('Instead change');
    expect(failure.cause).toBe(cause);
    // Any other failure keeps the message about an import() under way.
    expect(requireFailure('kysely', 'sql', new Error('cycle')).message).toMatch(/await that first\.$/);
  });

  it('names the versions package.json requires', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(manifest.engines.node).toBe(REQUIRE_ESM_NODE_VERSIONS);
  });
});
