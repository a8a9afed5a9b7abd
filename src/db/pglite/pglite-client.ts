/** The few PGlite methods Groundwork uses. */
export interface PgliteClient {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  query<T>(query: string, parameters?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  /** Runs statements without parameters over the simple query protocol: one exchange instead of five. */
  exec(query: string): Promise<unknown>;
  close(): Promise<void>;
}
