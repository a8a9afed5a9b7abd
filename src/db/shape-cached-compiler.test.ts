import { readFileSync } from 'node:fs';
import {
  CamelCasePlugin,
  type CompiledQuery,
  createQueryId,
  DummyDriver,
  Kysely,
  type OperationNode,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type SelectQueryNode,
  sql,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  CHECK_FIELDS,
  CHECKED_KYSELY_VERSION,
  fieldsNeedChecking,
  MAX_SHAPED_LIST_VALUES,
  queryShape,
  resolvedKyselyVersion,
  SHAPED_NODE_KINDS,
  UNSHAPED_SELECT_FIELDS,
} from './query-shape.js';
import { SHAPES_KEPT, ShapeCachedCompiler } from './shape-cached-compiler.js';

interface Tables {
  item: { id: number; name: string; done: boolean; score: number };
  'other.item': { id: number; name: string };
  note: { id: number; item_id: number; text: string };
}

/** A query builder over `compiler`, with no connection. */
function builder(compiler: QueryCompiler): Kysely<Tables> {
  return new Kysely<Tables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => compiler,
    },
  });
}

/** A select's `lock` field written as a later Kysely might write it. */
function lockClause(node: SelectQueryNode): string {
  const lock = (node as { lock?: { name: string } }).lock;
  return lock === undefined ? '' : ` for ${lock.name}`;
}

/** Kysely's compiler as a release knowing a select's `lock` field would compile it. */
class LaterCompiler extends PostgresQueryCompiler {
  protected override visitSelectQuery(node: SelectQueryNode): void {
    super.visitSelectQuery(node);
    this.append(lockClause(node));
  }
}

/** The shape-cached compiler over that release. */
class LaterShapeCachedCompiler extends ShapeCachedCompiler {
  protected override visitSelectQuery(node: SelectQueryNode): void {
    super.visitSelectQuery(node);
    this.append(lockClause(node));
  }
}

/** Counts the selects it compiles rather than takes from its shapes. */
class CountingCompiler extends ShapeCachedCompiler {
  selectsCompiled = 0;

  protected override visitSelectQuery(node: SelectQueryNode): void {
    this.selectsCompiled++;
    super.visitSelectQuery(node);
  }
}

type Values = { id: number; name: string; ids: number[]; limit: number };
/** What a test compiles: a query builder, or raw SQL over a builder. */
interface Query {
  compile(): CompiledQuery;
  toOperationNode(): OperationNode;
}
type Build = (db: Kysely<Tables>, values: Values) => Query;

const FIRST: Values = { id: 1, name: 'a', ids: [1, 2], limit: 5 };
const SECOND: Values = { id: 2, name: 'b', ids: [3, 4], limit: 9 };

/** Queries of every kind: plain selects the compiler keeps, and everything else it compiles as usual. */
const QUERIES: Record<string, Build> = {
  'point read': (db, v) => db.selectFrom('item').select(['id', 'name', 'done']).where('id', '=', v.id),
  'select all': (db, v) => db.selectFrom('item').selectAll().where('id', '=', v.id),
  'select all of a table': (db, v) => db.selectFrom('item').selectAll('item').where('item.id', '=', v.id),
  'no where': (db) => db.selectFrom('item').select('id'),
  'no selections': (db, v) => db.selectFrom('item').where('id', '=', v.id),
  aliases: (db, v) => db.selectFrom('item as i').select(['i.id as key', 'i.name']).where('i.id', '>', v.id),
  schema: (db, v) => db.selectFrom('other.item').select('id').where('id', '=', v.id),
  'and, or and parens': (db, v) =>
    db
      .selectFrom('item')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', v.id), eb.and([eb('name', '=', v.name), eb('done', '=', true)])]))
      .where('score', '<', v.limit),
  'where then select': (db, v) => db.selectFrom('item').where('name', 'like', v.name).select(['name', 'id']),
  'in list': (db, v) => db.selectFrom('item').select('id').where('id', 'in', v.ids),
  limit: (db, v) => db.selectFrom('item').selectAll().where('name', '=', v.name).limit(v.limit),
  'is null': (db) => db.selectFrom('item').select('id').where('name', 'is', null),
  literal: (db, v) => db.selectFrom('item').select('id').where('id', '=', sql.lit(v.id)),
  'value operand': (db, v) =>
    db
      .selectFrom('item')
      .select('id')
      .where((eb) => eb(eb.val(v.id), '=', eb.ref('id'))),
  'literal operand': (db, v) =>
    db
      .selectFrom('item')
      .select('id')
      .where((eb) => eb(eb.lit(v.id), '<', eb.ref('score'))),
  'two tables': (db, v) => db.selectFrom(['item', 'note']).select(['item.id', 'note.text']).where('note.item_id', '=', v.id),
  'raw selection': (db, v) => db.selectFrom('item').select(sql<number>`${v.id} + 1`.as('next')),
  join: (db, v) =>
    db.selectFrom('item').innerJoin('note', 'note.item_id', 'item.id').select(['item.id', 'note.text']).where('item.id', '=', v.id),
  'order by': (db, v) => db.selectFrom('item').select('id').where('id', '>', v.id).orderBy('id'),
  offset: (db, v) => db.selectFrom('item').select('id').limit(v.limit).offset(v.id),
  'group by': (db, v) => db.selectFrom('item').select('done').where('id', '>', v.id).groupBy('done'),
  distinct: (db, v) => db.selectFrom('item').select('name').distinct().where('id', '>', v.id),
  'for update': (db, v) => db.selectFrom('item').select('id').where('id', '=', v.id).forUpdate(),
  subquery: (db, v) =>
    db
      .selectFrom('item')
      .select('id')
      .where('id', 'in', (eb) => eb.selectFrom('note').select('item_id').where('text', '=', v.name)),
  with: (db, v) =>
    db
      .with('found', (eb) => eb.selectFrom('item').select('id').where('id', '=', v.id))
      .selectFrom('found')
      .select('id'),
  union: (db, v) =>
    db
      .selectFrom('item')
      .select('id')
      .where('id', '=', v.id)
      .union((eb) => eb.selectFrom('note').select('id')),
  insert: (db, v) => db.insertInto('item').values({ id: v.id, name: v.name, done: true, score: 1 }),
  update: (db, v) => db.updateTable('item').set({ name: v.name }).where('id', '=', v.id),
  delete: (db, v) => db.deleteFrom('item').where('id', '=', v.id),
  raw: (db, v) => {
    const raw = sql`select ${v.id} as one`;
    return { compile: () => raw.compile(db), toOperationNode: () => raw.toOperationNode() };
  },
};

function compiled(build: Build, db: Kysely<Tables>, values: Values): Pick<CompiledQuery, 'sql' | 'parameters'> {
  const { sql: text, parameters } = build(db, values).compile();
  return { sql: text, parameters };
}

/** Adds the kind of every node in the tree under `node` to `kinds`. */
function collectKinds(node: unknown, kinds: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectKinds(item, kinds);
    return;
  }
  if (typeof node !== 'object' || node === null || typeof (node as { kind?: unknown }).kind !== 'string') return;
  kinds.add((node as { kind: string }).kind);
  for (const value of Object.values(node)) collectKinds(value, kinds);
}

describe('ShapeCachedCompiler', () => {
  it('compiles every query as Kysely does, on its first compile and on later ones with other values', () => {
    const plain = builder(new PostgresQueryCompiler());
    const cached = builder(new ShapeCachedCompiler());
    for (const [name, build] of Object.entries(QUERIES)) {
      for (const values of [FIRST, SECOND, FIRST]) {
        expect(compiled(build, cached, values), name).toEqual(compiled(build, plain, values));
      }
    }
  });

  it('keeps the SQL of plain selects only, and hands each compile its own query node', () => {
    const compiler = new ShapeCachedCompiler();
    const cached = builder(compiler);
    const kept = ['point read', 'select all', 'select all of a table', 'no where', 'no selections', 'aliases', 'schema'];
    kept.push('and, or and parens', 'where then select', 'in list', 'limit', 'value operand', 'two tables');
    const keptKinds = new Set<string>();
    for (const [name, build] of Object.entries(QUERIES)) {
      const before = compiler.shapes;
      const query = build(cached, FIRST);
      const result = query.compile();
      expect(compiler.shapes - before, name).toBe(kept.includes(name) ? 1 : 0);
      expect(result.query).toBe(query.toOperationNode());
      if (kept.includes(name)) collectKinds(result.query, keptKinds);
    }
    // Every node kind a shape covers went through a kept select here.
    expect([...keptKinds].sort()).toEqual(['SelectQueryNode', ...SHAPED_NODE_KINDS].sort());
    const query = QUERIES['point read']?.(cached, SECOND);
    expect(query?.compile().query).toBe(query?.toOperationNode());
  });

  it('compiles every query as Kysely does under a plugin or a schema', () => {
    const plain = builder(new PostgresQueryCompiler());
    const cached = builder(new ShapeCachedCompiler());
    const variants: Array<[string, (db: Kysely<Tables>) => Kysely<Tables>]> = [
      ['camel case', (db) => db.withPlugin(new CamelCasePlugin())],
      ['schema', (db) => db.withSchema('s')],
      ['both', (db) => db.withSchema('s').withPlugin(new CamelCasePlugin({ upperCase: true }))],
    ];
    const camel: Build = (db, v) =>
      db
        .selectFrom('note')
        .select([db.dynamic.ref('itemId'), 'text'])
        .where(db.dynamic.ref('itemId'), '=', v.id);
    for (const [variant, wrap] of variants) {
      for (const [name, build] of [...Object.entries(QUERIES), ['camel-case column', camel] as const]) {
        for (const values of [FIRST, SECOND]) {
          expect(compiled(build, wrap(cached), values), `${variant}: ${name}`).toEqual(compiled(build, wrap(plain), values));
        }
      }
    }
  });

  it('compiles one shape as Kysely does whatever type of value sits in a parameter', () => {
    const compiler = new ShapeCachedCompiler();
    const cached = builder(compiler);
    const plain = builder(new PostgresQueryCompiler());
    const values: unknown[] = [1, null, new Date(0), [1, 2], { a: 1 }, Buffer.from('x'), 10n, 'text', true, undefined];
    const select = (db: Kysely<Tables>, value: unknown) =>
      db
        .selectFrom('item')
        .select('id')
        .where((eb) => eb('name', '=', eb.val(value as string)));
    for (const value of values) {
      const result = select(cached, value).compile();
      expect({ sql: result.sql, parameters: result.parameters }, String(value)).toEqual(
        (({ sql: text, parameters }) => ({ sql: text, parameters }))(select(plain, value).compile()),
      );
      expect(result.parameters[0]).toBe(value);
    }
    expect(compiler.shapes).toBe(1);
  });

  it('never hands a select the SQL of another whose shape differs in a name, an operator, a list length or a part', () => {
    const plain = builder(new PostgresQueryCompiler());
    const cached = builder(new ShapeCachedCompiler());
    const similar: Build[] = [
      (db, v) => db.selectFrom('item').select('id').where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('name').where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('id').where('name', '=', v.name),
      (db, v) => db.selectFrom('item').select('id').where('id', '>', v.id),
      (db, v) => db.selectFrom('item').select(['id', 'name']).where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('id').where('id', 'in', v.ids),
      (db, v) =>
        db
          .selectFrom('item')
          .select('id')
          .where('id', 'in', [...v.ids, 7]),
      (db, v) => db.selectFrom('item').select('id').where('id', '=', v.id).limit(v.limit),
      (db, v) => db.selectFrom('note').select('id').where('id', '=', v.id),
      (db, v) => db.selectFrom('item as note').select('id').where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('item.id').where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('id as item').where('id', '=', v.id),
      (db, v) => db.selectFrom('item').select('id').where('id', '=', v.id).where('name', '=', v.name),
      (db, v) =>
        db
          .selectFrom('item')
          .select('id')
          .where((eb) => eb.or([eb('id', '=', v.id), eb('name', '=', v.name)])),
    ];
    // Names made to collide with a shape's own separators, were they not counted.
    const tricky = ['i', '1:', 'c1:i', 'id"', 'S', '-', 'a b', ''];
    for (const column of tricky) {
      similar.push((db, v) => db.selectFrom('item').select(db.dynamic.ref(column)).where('id', '=', v.id));
      similar.push((db, v) =>
        db
          .selectFrom('item')
          .select(db.dynamic.ref(`${column}x`))
          .where('id', '=', v.id),
      );
      similar.push((db, v) =>
        db
          .selectFrom('item')
          .select([db.dynamic.ref(column), db.dynamic.ref('x')])
          .where('id', '=', v.id),
      );
    }
    // Two columns whose names, run together, read the same either way: only their lengths tell them apart.
    for (const [first, second] of [
      ['aSr-cib', 'c'],
      ['a', 'bSr-cic'],
    ] as const) {
      similar.push((db, v) =>
        db
          .selectFrom('item')
          .select([db.dynamic.ref(first), db.dynamic.ref(second)])
          .where('id', '=', v.id),
      );
    }
    for (let round = 0; round < 2; round++) {
      for (const build of similar) expect(compiled(build, cached, SECOND)).toEqual(compiled(build, plain, SECOND));
    }
  });

  it('has no shape for a select using any part outside one', () => {
    const db = builder(new PostgresQueryCompiler());
    const node = db.selectFrom('item').select('id').where('id', '=', 1).toOperationNode() as SelectQueryNode;
    expect(queryShape(node, [])).toBeDefined();
    const part = db.selectFrom('note').select('id').toOperationNode();
    for (const field of UNSHAPED_SELECT_FIELDS) {
      expect(queryShape({ ...node, [field]: part } as SelectQueryNode, []), field).toBeUndefined();
    }
  });

  it('would hand a node carrying a field its Kysely type lacks the SQL of one without it: why only the checked Kysely keeps shapes', () => {
    const node = builder(new PostgresQueryCompiler())
      .selectFrom('item')
      .select('id')
      .where('id', '=', 1)
      .toOperationNode() as SelectQueryNode;
    // As a later Kysely might build `.lock()`: a field adding a clause and no parameter.
    const locked = { ...node, lock: { kind: 'IdentifierNode', name: 'update' } } as SelectQueryNode;
    const expected = new LaterCompiler().compileQuery(locked, createQueryId()).sql;
    expect(expected).toMatch(/ for update$/);
    const compiler = new LaterShapeCachedCompiler();
    compiler.compileQuery(node, createQueryId());
    const result = compiler.compileQuery(locked, createQueryId());
    expect(result.sql).not.toBe(expected);
    expect(compiler.shapes).toBe(1);
  });

  it('keeps shapes only with the Kysely the build checked, resolved at run time', () => {
    const installed = JSON.parse(readFileSync('node_modules/kysely/package.json', 'utf8')) as { version: string };
    // The build's type check vouches for this version's fields: a new Kysely here needs the tables checked again.
    expect(CHECKED_KYSELY_VERSION).toBe(installed.version);
    expect(resolvedKyselyVersion()).toBe(installed.version);
    expect(CHECK_FIELDS).toBe(false);
    expect(fieldsNeedChecking(CHECKED_KYSELY_VERSION)).toBe(false);
    expect(fieldsNeedChecking('0.28.19')).toBe(true);
    expect(fieldsNeedChecking(undefined)).toBe(true);
  });

  it(`keeps at most ${SHAPES_KEPT} shapes and, once full, drops the least recently used`, () => {
    const compiler = new CountingCompiler();
    const db = builder(compiler);
    const plain = builder(new PostgresQueryCompiler());
    const select = (target: Kysely<Tables>, index: number) =>
      target
        .selectFrom('item')
        .select(target.dynamic.ref(`column_${index}`))
        .where('id', '=', index);
    /** Compiles shape `index`, saying whether its SQL had to be compiled (it was not kept). */
    const compiles = (index: number): boolean => {
      const before = compiler.selectsCompiled;
      expect(select(db, index).compile()).toMatchObject({ sql: select(plain, index).compile().sql, parameters: [index] });
      return compiler.selectsCompiled > before;
    };
    for (let index = 0; index < SHAPES_KEPT; index++) expect(compiles(index)).toBe(true);
    expect(compiler.shapes).toBe(SHAPES_KEPT);
    // The oldest added, used again once the compiler is full: the next oldest goes in its place.
    expect(compiles(0)).toBe(false);
    expect(compiles(SHAPES_KEPT)).toBe(true);
    expect(compiler.shapes).toBe(SHAPES_KEPT);
    expect(compiles(0)).toBe(false);
    expect(compiles(SHAPES_KEPT)).toBe(false);
    expect(compiles(1)).toBe(true);
    expect(compiler.shapes).toBe(SHAPES_KEPT);
    // Compiling 1 again made room by dropping 2, now the least recently used.
    expect(compiles(3)).toBe(false);
    expect(compiles(2)).toBe(true);
  });

  it(`has no shape for a list of more than ${MAX_SHAPED_LIST_VALUES} values, each length being a shape of its own`, () => {
    const compiler = new ShapeCachedCompiler();
    const db = builder(compiler);
    const plain = builder(new PostgresQueryCompiler());
    const select = (target: Kysely<Tables>, length: number) =>
      target
        .selectFrom('item')
        .select('id')
        .where(
          'id',
          'in',
          Array.from({ length }, (_, index) => index),
        );
    for (const length of [MAX_SHAPED_LIST_VALUES, MAX_SHAPED_LIST_VALUES + 1, 1000]) {
      const before = compiler.shapes;
      expect(compiled(() => select(db, length), db, FIRST)).toEqual(compiled(() => select(plain, length), plain, FIRST));
      expect(compiler.shapes - before, String(length)).toBe(length <= MAX_SHAPED_LIST_VALUES ? 1 : 0);
    }
  });
});
