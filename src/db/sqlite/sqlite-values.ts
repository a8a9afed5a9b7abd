/**
 * How Groundwork stores values SQLite has no type for, so that the same application code runs
 * on SQLite, PGlite and PostgreSQL:
 *
 * - parameters: `true`/`false` → `1`/`0`, `Date` → ISO 8601 text (UTC, sortable), plain objects
 *   and arrays → JSON text;
 * - results: columns *declared* `boolean`, `timestamp…`/`datetime` or `json`/`jsonb` (declare them
 *   so in migrations, exactly as for PostgreSQL) come back as booleans, `Date`s and parsed JSON.
 *   Computed expressions carry no declared type and come back as SQLite stores them.
 */
export type ColumnKind = 'boolean' | 'date' | 'json';

/** A value better-sqlite3 can bind, from an application value. */
export function toSqliteParameter(value: unknown): unknown {
  switch (typeof value) {
    case 'boolean':
      return value ? 1 : 0;
    case 'object':
      if (value === null || Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
      if (value instanceof Date) return value.toISOString();
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** The mapping a declared column type asks for, if any. */
export function columnKind(declaredType: string | null): ColumnKind | undefined {
  if (declaredType === null) return undefined;
  const type = declaredType.trim().toLowerCase();
  if (type.startsWith('bool')) return 'boolean';
  if (type.startsWith('timestamp') || type.startsWith('datetime')) return 'date';
  if (type === 'json' || type === 'jsonb') return 'json';
  return undefined;
}

const SQLITE_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Reads a stored value back as the kind its column declares. */
export function fromSqliteValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (kind) {
    case 'boolean':
      return typeof value === 'number' || typeof value === 'bigint' ? value !== 0 && value !== 0n : value;
    case 'date':
      if (typeof value === 'number') return new Date(value);
      if (typeof value !== 'string') return value;
      // SQLite's CURRENT_TIMESTAMP is UTC without a zone designator.
      return new Date(SQLITE_DATETIME.test(value) ? `${value.replace(' ', 'T')}Z` : value);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
  }
}
