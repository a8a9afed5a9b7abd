/** The few PGlite methods Groundwork uses. */
export interface PgliteClient {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  query<T>(query: string, parameters?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  close(): Promise<void>;
}
