/** Which page of a stored response's input items to list (OpenAI's `GET /responses/{id}/input_items` query). */
export interface ResponseInputItemsQuery {
  /** List the items after the one with this id. */
  after?: string | undefined;
  /** List the items before the one with this id. */
  before?: string | undefined;
  /** Additional fields to include, as for a call's `include` (`message.input_image.image_url`, say). */
  include?: readonly string[] | undefined;
  /** How many items, 1 to 100. @default 20 (the upstream's) */
  limit?: number | undefined;
  /** @default 'desc' (the upstream's): the newest first */
  order?: 'asc' | 'desc' | undefined;
}

/** The fields of a {@link ResponseInputItemsQuery}. */
const QUERY_FIELDS: ReadonlySet<string> = new Set(['after', 'before', 'include', 'limit', 'order']);

/**
 * `query` as the upstream reads it, without `?`: a string is taken as the caller wrote it (`serve`
 * passes its caller's on); fields are checked and written as OpenAI's SDK writes them
 * (`include[]=…`). Undefined when there is nothing to send. Throws a `TypeError` or `RangeError`
 * naming a field that could not be sent, or fields it does not know (nothing is dropped).
 */
export function inputItemsQueryString(query: ResponseInputItemsQuery | string | undefined): string | undefined {
  if (query === undefined || query === '') return undefined;
  if (typeof query === 'string') return query.startsWith('?') ? query.slice(1) || undefined : query;
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new TypeError(`The query of the input items must be an object or a query string, not ${JSON.stringify(query)}`);
  }
  const unknown = Object.keys(query).filter((field) => !QUERY_FIELDS.has(field));
  if (unknown.length > 0) {
    throw new TypeError(
      `The query of the input items has no field ${unknown.map((field) => JSON.stringify(field)).join(', ')}: it takes ${[...QUERY_FIELDS].join(', ')}`,
    );
  }
  const params = new URLSearchParams();
  for (const field of ['after', 'before'] as const) {
    const value = query[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new TypeError(`${field} must be an item id, not ${JSON.stringify(value)}`);
    params.set(field, value);
  }
  if (query.include !== undefined && !Array.isArray(query.include)) {
    throw new TypeError(`include must be an array of field names, not ${JSON.stringify(query.include)}`);
  }
  for (const value of query.include ?? []) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`include must hold field names, not ${JSON.stringify(value)}`);
    params.append('include[]', value);
  }
  const { limit, order } = query;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new RangeError(`limit must be a whole number from 1 to 100, not ${limit}`);
    params.set('limit', String(limit));
  }
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc') throw new RangeError(`order must be 'asc' or 'desc', not ${JSON.stringify(order)}`);
    params.set('order', order);
  }
  const text = params.toString();
  return text === '' ? undefined : text;
}
