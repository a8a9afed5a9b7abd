/** Options of one retrieval of a stored response. */
export interface RetrieveResponseOptions {
  signal?: AbortSignal | undefined;
  /** The caller's query (`include[]=…`), without `?`. */
  query?: string | undefined;
  /**
   * The models the caller may call (`'*'` for any): only the upstreams a call for one of them could
   * reach are asked. @default every upstream
   */
  models?: readonly string[] | undefined;
}
