import type { CacheOption } from '../../cache/resolve-cache-mode.js';
import type { UsageAttribution } from '../usage-record.js';

/** Per-call options of `respond`. */
export interface RespondOptions {
  /** Cancels the call (and a stream being read). */
  signal?: AbortSignal;
  /**
   * The response cache, for translated calls (as for chat). Forwarded calls (OpenAI, Azure OpenAI)
   * are never cached: asking one for the cache (`true`, `'use'`, `'refresh'`) fails with
   * `ResponsesCacheUnsupportedError` before anything is sent; `false` or `'bypass'` is honoured.
   */
  cache?: CacheOption;
  /** Who the call is billed to: each ledger row of the call names them. */
  attribution?: UsageAttribution;
}
