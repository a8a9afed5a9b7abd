import type { ResponseInputItemsQuery } from './response-input-items-query.js';

/** Options of a request about a stored response: cancelling it, deleting it, listing its input items. */
export interface StoredResponseOptions {
  signal?: AbortSignal | undefined;
  /**
   * The models the caller may call (`'*'` for any): only the upstreams a call for one of them could
   * reach are asked. @default every upstream
   */
  models?: readonly string[] | undefined;
}

/** Options of one listing of a stored response's input items. */
export interface ListResponseInputItemsOptions extends StoredResponseOptions {
  /**
   * Which page: checked fields (`after`, `before`, `include`, `limit` 1 to 100, `order`), or a
   * query string passed on as written (`limit=5&order=asc`, without `?`). @default the upstream's first page
   */
  query?: ResponseInputItemsQuery | string | undefined;
}

/** Options of one retrieval of a stored response. */
export interface RetrieveResponseOptions extends StoredResponseOptions {
  /** The caller's query (`include[]=…`), without `?`. */
  query?: string | undefined;
}
