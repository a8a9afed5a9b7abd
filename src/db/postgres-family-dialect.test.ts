import { PostgresQueryCompiler } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** The dialect as loaded with `CHECK_FIELDS` (whether the resolved Kysely is another release than the checked one) set. */
async function dialectWith(checkFields: boolean) {
  vi.resetModules();
  vi.doMock('./query-shape.js', async (original) => ({
    ...(await original<typeof import('./query-shape.js')>()),
    CHECK_FIELDS: checkFields,
  }));
  const { PostgresFamilyDialect } = await import('./postgres-family-dialect.js');
  const { ShapeCachedCompiler } = await import('./shape-cached-compiler.js');
  return { compiler: new PostgresFamilyDialect({} as never).createQueryCompiler(), ShapeCachedCompiler };
}

describe('the PostgreSQL family dialect', () => {
  afterEach(() => {
    vi.doUnmock('./query-shape.js');
    vi.resetModules();
  });

  it('keeps plain selects by their shape with the Kysely the shapes were checked against', async () => {
    const { compiler, ShapeCachedCompiler } = await dialectWith(false);
    expect(compiler).toBeInstanceOf(ShapeCachedCompiler);
  });

  it('compiles with Kysely’s own compiler when another Kysely is resolved, where checking each node would cost more than compiling', async () => {
    const { compiler, ShapeCachedCompiler } = await dialectWith(true);
    expect(compiler).toBeInstanceOf(PostgresQueryCompiler);
    expect(compiler).not.toBeInstanceOf(ShapeCachedCompiler);
  });
});
