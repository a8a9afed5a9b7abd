/** What PGlite's `query` answers. */
export interface PgliteResult<T> {
  rows: T[];
  affectedRows?: number;
}

/** The statements Groundwork runs on PGlite, on the client or inside one of its transactions. */
export interface PgliteQueryable {
  query<T>(query: string, parameters?: unknown[]): Promise<PgliteResult<T>>;
  /** Runs statements without parameters over the simple query protocol: one exchange instead of five. */
  exec(query: string): Promise<unknown>;
}

/** The few PGlite methods Groundwork uses. */
export interface PgliteClient extends PgliteQueryable {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  /**
   * Runs `callback` in a transaction that holds PGlite's lock throughout: BEGIN before, COMMIT
   * when it resolves, ROLLBACK when it throws. Its statements skip the lock each of the client's
   * own `query` and `exec` calls take.
   */
  transaction<T>(callback: (transaction: PgliteQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
