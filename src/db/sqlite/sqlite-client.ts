/** The few better-sqlite3 statement methods Groundwork uses. */
export interface SqliteStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
  columns(): Array<{ name: string; type: string | null }>;
}

/** The few better-sqlite3 database methods Groundwork uses. */
export interface SqliteClient {
  readonly inTransaction: boolean;
  readonly open: boolean;
  prepare(sql: string): SqliteStatement;
  pragma(source: string): unknown;
  close(): unknown;
}
