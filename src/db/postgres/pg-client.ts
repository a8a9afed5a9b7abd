/** The part of a `pg` client's socket that batches writes. */
export interface PgStream {
  cork?(): void;
  uncork?(): void;
}

/** What a `pg` query answers. */
export interface PgResult {
  command: string;
  rowCount: number | null;
  rows: unknown[];
}

/** What a `pg` query's callback is called with: an error, or null and the result. */
export type PgCallback = (error: Error | null | undefined, result?: PgResult) => void;

/** A named statement: the client parses it once per connection. */
export interface PgNamedQuery {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** The few `pg` pooled-client members Groundwork uses. */
export interface PgPoolClient {
  query(sql: string, parameters: unknown[]): Promise<PgResult>;
  query(config: PgNamedQuery): Promise<PgResult>;
  /**
   * The same, answered through `callback` (which must not throw) instead of a promise: pg then
   * makes no promise of its own, nor the one it chains to rewrite an error's stack.
   */
  query(sql: string, parameters: unknown[], callback: PgCallback): void;
  query(config: PgNamedQuery, callback: PgCallback): void;
  /** A query object of pg's own (its `Query` class), submitted as it defines; settled through its callback. */
  query(query: import('pg').Query): unknown;
  release(destroy?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  /**
   * The client's protocol connection. In pipeline mode (`pipeline: true`, which Groundwork's pool
   * sets) a query is written as soon as it is queued; corking the socket around two queries sends
   * them in one write.
   */
  readonly connection?: {
    readonly stream?: PgStream;
    /** Named statements pg counts as parsed on this connection (it then sends no Parse for them), by name. */
    readonly parsedStatements?: Record<string, string | undefined>;
    /** Named statements whose Parse pg has sent and the server not yet answered, by name. */
    readonly submittedNamedStatements?: Record<string, string | undefined>;
  };
}

/** The few `pg.Pool` members Groundwork uses. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  /** The same, answered through `callback`; called at once when the pool has ended. */
  connect(callback: (error: Error | null | undefined, client: PgPoolClient | undefined) => void): void;
  end(): Promise<void>;
  on(event: 'connect', listener: (client: PgPoolClient) => void): unknown;
  on(event: 'error', listener: (error: Error, client: PgPoolClient) => void): unknown;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}
