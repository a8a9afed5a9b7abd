import { type CompiledQuery, type DialectAdapter, RawNode, SqliteAdapter } from 'kysely';

/**
 * The ledger's writes as SQL text built once per shape, run as compiled queries: they skip
 * Kysely's builder, its freezing and its compiler (a 100-row insert of 22 columns is thousands of
 * nodes built, frozen and walked per batch). On SQLite a statement covers one row, and runs once
 * per row: the driver prepares it once, and SQLite has no round trip to save. On PostgreSQL and
 * PGlite a statement covers many rows, its text cached per row count.
 */

/** A ledger write's dialect: `?` placeholders, one row a statement; or `$n` placeholders, many rows a statement. */
export type StatementStyle = 'sqlite' | 'postgres';

/** The style of the dialect behind `db`. */
export function statementStyle(db: { getExecutor(): { readonly adapter: DialectAdapter } }): StatementStyle {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
}

/** Row counts whose statement text is kept, per statement shape (batches are usually one size). */
const CACHED_ROW_COUNTS = 32;

/**
 * `insert into table (columns) values (…), (…)` with an optional tail (`on conflict …`),
 * its text built once per row count and style.
 */
export class MultiRowStatement {
  readonly #head: string;
  readonly #tail: string;
  readonly #columns: number;
  readonly #texts = new Map<string, CompiledText>();

  constructor(table: string, columns: readonly string[], tail = '') {
    this.#head = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values `;
    this.#tail = tail === '' ? '' : ` ${tail}`;
    this.#columns = columns.length;
  }

  /** Parameters per row. */
  get columns(): number {
    return this.#columns;
  }

  /** The compiled query for `rows` rows of `parameters` (row after row, `columns` each). */
  compile(style: StatementStyle, rows: number, parameters: readonly unknown[]): CompiledQuery {
    const key = `${style}${rows}`;
    let text = this.#texts.get(key);
    if (text === undefined) {
      text = compiledText(this.#head + valuesList(style, rows, this.#columns) + this.#tail);
      if (this.#texts.size >= CACHED_ROW_COUNTS) this.#texts.clear();
      this.#texts.set(key, text);
    }
    return { sql: text.sql, query: text.query, queryId: text.queryId, parameters } as CompiledQuery;
  }
}

interface CompiledText {
  readonly sql: string;
  readonly query: RawNode;
  readonly queryId: CompiledQuery['queryId'];
}

let texts = 0;

function compiledText(sql: string): CompiledText {
  // A query id of its own per text (plugins key their state by it); no plugin runs on these statements.
  return { sql, query: RawNode.createWithSql(sql), queryId: { queryId: `groundwork_usage_${++texts}` } as CompiledQuery['queryId'] };
}

function valuesList(style: StatementStyle, rows: number, columns: number): string {
  const tuples: string[] = [];
  let parameter = 0;
  for (let row = 0; row < rows; row++) {
    const cells: string[] = [];
    for (let column = 0; column < columns; column++) cells.push(style === 'sqlite' ? '?' : `$${++parameter}`);
    tuples.push(`(${cells.join(', ')})`);
  }
  return tuples.join(', ');
}

/** `name` as a quoted SQL identifier (the names here are the ledger's own, never user input). */
export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
