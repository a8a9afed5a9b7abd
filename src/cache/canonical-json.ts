/**
 * JSON with object keys sorted at every depth and `undefined` properties left out, so that two
 * values equal in content serialise to the same text whatever order their keys were written in.
 * Array order is kept: it carries meaning (messages, stop sequences).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : normalize(item)));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item !== undefined) sorted[key] = normalize(item);
  }
  return sorted;
}
