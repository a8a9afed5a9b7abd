import { DummyDriver, Kysely, sql as kyselySql, type RawBuilder, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sql } from './sql.js';

const db = new Kysely<Record<string, never>>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (kysely) => new SqliteIntrospector(kysely),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

/** Each helper, written once over a given `sql`, so Groundwork's and Kysely's compile side by side. */
const uses: Record<string, (tag: typeof kyselySql) => RawBuilder<unknown>> = {
  template: (tag) => tag`select ${1} as one, ${'two'} as two`,
  val: (tag) => tag`select ${tag.val(3)}`,
  value: (tag) => tag`select ${tag.value('x')}`,
  ref: (tag) => tag`select ${tag.ref('person.first_name')}`,
  table: (tag) => tag`select * from ${tag.table('public.person')}`,
  id: (tag) => tag`select ${tag.id('schema', 'table', 'column')}`,
  lit: (tag) => tag`select ${tag.lit(42)}`,
  literal: (tag) => tag`select ${tag.literal('text')}`,
  raw: (tag) => tag`select * from person ${tag.raw('order by id desc')}`,
  join: (tag) => tag`select * from person where id in (${tag.join([1, 2, 3])})`,
  'join with a separator': (tag) => tag`select ${tag.join([tag.ref('a'), tag.ref('b')], tag` || `)}`,
  nested: (tag) => tag`select * from (${tag`select ${5} as n`}) as inner_query`,
};

describe('sql', () => {
  for (const [name, use] of Object.entries(uses)) {
    it(`compiles ${name} exactly as Kysely's own sql does`, () => {
      const ours = use(sql).compile(db);
      const theirs = use(kyselySql).compile(db);
      expect(ours.sql).toBe(theirs.sql);
      expect(ours.parameters).toEqual(theirs.parameters);
    });
  }

  it("returns Kysely's own builders, which mix with its own sql", () => {
    const mixed = kyselySql`select ${sql.ref('a')} from ${sql.table('t')} where ${sql`x = ${1}`}`.compile(db);
    expect(mixed.sql).toBe('select "a" from "t" where x = ?');
    expect(sql`select 1`.as('one').toOperationNode().kind).toBe('AliasNode');
  });

  it('has every helper Kysely has', () => {
    expect(Object.keys(sql).sort()).toEqual(Object.keys(kyselySql).sort());
  });
});
