import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  FromNode,
  IdentifierNode,
  LimitNode,
  OperationNode,
  OperatorNode,
  OrNode,
  ParensNode,
  PrimitiveValueListNode,
  ReferenceNode,
  SchemableIdentifierNode,
  SelectAllNode,
  SelectionNode,
  SelectQueryNode,
  TableNode,
  ValueNode,
  WhereNode,
} from 'kysely';

/**
 * Every field of each node kind a shape covers: `true` where the shape takes it in, `false` where
 * its presence makes the query one without a shape. Each table must name exactly the fields of
 * Kysely's type, so a Kysely release that adds a field fails to compile here. That guards this
 * package's own build only: a user may resolve a later Kysely at run time, whose nodes may carry a
 * field a shape would not see, so the dialects keep shapes only with the Kysely checked here
 * (see {@link CHECK_FIELDS}).
 */
type Fields<N> = { readonly [K in Exclude<keyof N, 'kind'>]-?: boolean };

const SELECT_QUERY_FIELDS = {
  selections: true,
  from: true,
  where: true,
  limit: true,
  distinctOn: false,
  joins: false,
  groupBy: false,
  orderBy: false,
  frontModifiers: false,
  endModifiers: false,
  offset: false,
  with: false,
  having: false,
  explain: false,
  setOperations: false,
  fetch: false,
  top: false,
} as const satisfies Fields<SelectQueryNode>;

/** The select fields whose presence leaves a query without a shape. */
export const UNSHAPED_SELECT_FIELDS = (Object.keys(SELECT_QUERY_FIELDS) as Array<keyof typeof SELECT_QUERY_FIELDS>).filter(
  (field) => !SELECT_QUERY_FIELDS[field],
);

/** The other node kinds a shape covers, every field of them taken in: the tables make the compiler check that. */
const SHAPED_NODE_FIELDS = {
  FromNode: { froms: true } satisfies Fields<FromNode>,
  TableNode: { table: true } satisfies Fields<TableNode>,
  SchemableIdentifierNode: { schema: true, identifier: true } satisfies Fields<SchemableIdentifierNode>,
  IdentifierNode: { name: true } satisfies Fields<IdentifierNode>,
  SelectionNode: { selection: true } satisfies Fields<SelectionNode>,
  ReferenceNode: { table: true, column: true } satisfies Fields<ReferenceNode>,
  ColumnNode: { column: true } satisfies Fields<ColumnNode>,
  SelectAllNode: {} satisfies Fields<SelectAllNode>,
  AliasNode: { node: true, alias: true } satisfies Fields<AliasNode>,
  WhereNode: { where: true } satisfies Fields<WhereNode>,
  BinaryOperationNode: { leftOperand: true, operator: true, rightOperand: true } satisfies Fields<BinaryOperationNode>,
  OperatorNode: { operator: true } satisfies Fields<OperatorNode>,
  ValueNode: { value: true, immediate: true } satisfies Fields<ValueNode>,
  PrimitiveValueListNode: { values: true } satisfies Fields<PrimitiveValueListNode>,
  AndNode: { left: true, right: true } satisfies Fields<AndNode>,
  OrNode: { left: true, right: true } satisfies Fields<OrNode>,
  ParensNode: { node: true } satisfies Fields<ParensNode>,
  LimitNode: { limit: true } satisfies Fields<LimitNode>,
} as const;

/** The node kinds a shape covers, besides the select itself. */
export const SHAPED_NODE_KINDS = Object.keys(SHAPED_NODE_FIELDS) as ReadonlyArray<OperationNode['kind']>;

/**
 * The Kysely release this package's build checked the tables above against: a test fails when the
 * installed Kysely is another, so the tables are checked again before this changes.
 */
export const CHECKED_KYSELY_VERSION = '0.28.18';

/** The version of the Kysely that `import 'kysely'` resolves to here, or undefined when its package.json cannot be read. */
export function resolvedKyselyVersion(): string | undefined {
  let directory: string;
  try {
    directory = dirname(createRequire(import.meta.url).resolve('kysely'));
  } catch {
    return undefined;
  }
  for (;;) {
    const version = kyselyPackageVersion(join(directory, 'package.json'));
    if (version !== undefined) return version;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** The version in `path` when it is Kysely's own package.json (not one of its dist folders' type markers). */
function kyselyPackageVersion(path: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
    return manifest.name === 'kysely' && typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `version` of Kysely is one whose nodes would need their keys checked before a shape could
 * be trusted: any version but the checked one, an unknown one included.
 */
export function fieldsNeedChecking(version: string | undefined): boolean {
  return version !== CHECKED_KYSELY_VERSION;
}

/**
 * Whether the Kysely resolved here is not the checked one. Checking every node's keys at run time
 * would cost more than the compile a shape saves (on a three-column point read with two conditions
 * and a limit: some 1.3 µs a kept select, 2.3 µs with its keys checked, 1.9 µs compiled by Kysely),
 * so the dialects then use Kysely's own compiler (postgres-family-dialect.ts).
 */
export const CHECK_FIELDS = fieldsNeedChecking(resolvedKyselyVersion());

/** Values in a list past which a select has no shape: each length would be a shape of its own, its SQL growing with it. */
export const MAX_SHAPED_LIST_VALUES = 64;

/**
 * The shape of a plain select: everything its SQL depends on, with each value it sends as a
 * parameter left out and pushed onto `parameters` instead, in the order the compiler numbers them.
 * Two selects with the same shape compile to the same SQL. Undefined for any other query, for
 * a select using anything besides plain columns of plain tables, aliases, `where` with comparisons
 * joined by `and`/`or`, lists of up to {@link MAX_SHAPED_LIST_VALUES} values and `limit`: those compile as usual.
 *
 * The encoding is prefix-free (a tag per node, a fixed number of parts per tag, counted lists,
 * length-prefixed names), so different trees never share a shape.
 */
export function queryShape(node: OperationNode, parameters: unknown[]): string | undefined {
  if (node.kind !== 'SelectQueryNode') return undefined;
  const select = node as SelectQueryNode;
  if (!plainSelect(select)) return undefined;
  // The compiler's order: selections, from, where, limit.
  let shape = 'Q';
  if (select.selections === undefined) shape += '-';
  else {
    shape += `${select.selections.length}:`;
    for (const selection of select.selections) {
      const part = nodeShape(selection, parameters);
      if (part === undefined) return undefined;
      shape += part;
    }
  }
  const from = optionalShape(select.from, parameters);
  const where = optionalShape(select.where, parameters);
  const limit = optionalShape(select.limit, parameters);
  if (from === undefined || where === undefined || limit === undefined) return undefined;
  return shape + from + where + limit;
}

/** Whether none of the select's fields outside a shape is set (each of {@link UNSHAPED_SELECT_FIELDS}, spelled out: this runs for every select). */
function plainSelect(select: SelectQueryNode): boolean {
  return (
    select.distinctOn === undefined &&
    select.joins === undefined &&
    select.groupBy === undefined &&
    select.orderBy === undefined &&
    select.frontModifiers === undefined &&
    select.endModifiers === undefined &&
    select.offset === undefined &&
    select.with === undefined &&
    select.having === undefined &&
    select.explain === undefined &&
    select.setOperations === undefined &&
    select.fetch === undefined &&
    select.top === undefined
  );
}

/** An optional part's shape: `-` when absent. */
function optionalShape(node: OperationNode | undefined, parameters: unknown[]): string | undefined {
  return node === undefined ? '-' : nodeShape(node, parameters);
}

/** A node's shape, its parameters pushed in the compiler's order; undefined for a kind without one. */
function nodeShape(node: OperationNode, parameters: unknown[]): string | undefined {
  switch (node.kind) {
    case 'IdentifierNode':
      return name('i', (node as IdentifierNode).name);
    case 'SchemableIdentifierNode': {
      const { schema, identifier } = node as SchemableIdentifierNode;
      return pair('s', schema === undefined ? '-' : nodeShape(schema, parameters), nodeShape(identifier, parameters));
    }
    case 'TableNode':
      return one('t', nodeShape((node as TableNode).table, parameters));
    case 'ColumnNode':
      return one('c', nodeShape((node as ColumnNode).column, parameters));
    case 'SelectAllNode':
      return '*';
    case 'ReferenceNode': {
      const { table, column } = node as ReferenceNode;
      return pair('r', table === undefined ? '-' : nodeShape(table, parameters), nodeShape(column, parameters));
    }
    case 'SelectionNode':
      return one('S', nodeShape((node as SelectionNode).selection, parameters));
    case 'AliasNode': {
      const alias = node as AliasNode;
      return pair('a', nodeShape(alias.node, parameters), nodeShape(alias.alias, parameters));
    }
    case 'FromNode':
      return list('f', (node as FromNode).froms, parameters);
    case 'WhereNode':
      return one('w', nodeShape((node as WhereNode).where, parameters));
    case 'BinaryOperationNode': {
      const { leftOperand, operator, rightOperand } = node as BinaryOperationNode;
      const left = nodeShape(leftOperand, parameters);
      const middle = nodeShape(operator, parameters);
      const right = nodeShape(rightOperand, parameters);
      return left === undefined || middle === undefined || right === undefined ? undefined : `b${left}${middle}${right}`;
    }
    case 'OperatorNode':
      return name('o', (node as OperatorNode).operator);
    case 'ValueNode': {
      const value = node as ValueNode;
      // An immediate value is written into the SQL itself.
      if (value.immediate === true) return undefined;
      parameters.push(value.value);
      return '$';
    }
    case 'PrimitiveValueListNode': {
      const { values } = node as PrimitiveValueListNode;
      if (values.length > MAX_SHAPED_LIST_VALUES) return undefined;
      for (const value of values) parameters.push(value);
      return `v${values.length}:`;
    }
    case 'AndNode': {
      const and = node as AndNode;
      return pair('&', nodeShape(and.left, parameters), nodeShape(and.right, parameters));
    }
    case 'OrNode': {
      const or = node as OrNode;
      return pair('|', nodeShape(or.left, parameters), nodeShape(or.right, parameters));
    }
    case 'ParensNode':
      return one('(', nodeShape((node as ParensNode).node, parameters));
    case 'LimitNode':
      return one('l', nodeShape((node as LimitNode).limit, parameters));
    default:
      return undefined;
  }
}

function name(tag: string, text: string): string {
  return `${tag}${text.length}:${text}`;
}

function one(tag: string, part: string | undefined): string | undefined {
  return part === undefined ? undefined : tag + part;
}

function pair(tag: string, first: string | undefined, second: string | undefined): string | undefined {
  return first === undefined || second === undefined ? undefined : tag + first + second;
}

function list(tag: string, nodes: ReadonlyArray<OperationNode>, parameters: unknown[]): string | undefined {
  let shape = `${tag}${nodes.length}:`;
  for (const item of nodes) {
    const part = nodeShape(item, parameters);
    if (part === undefined) return undefined;
    shape += part;
  }
  return shape;
}
