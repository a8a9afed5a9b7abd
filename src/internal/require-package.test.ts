import { sql as kyselySql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requirePackage } from './require-package.js';

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
});
