import type { CacheOption } from '../../cache/resolve-cache-mode.js';
import type { UsageAttribution } from '../usage-record.js';

/** Per-call options of `respond`. */
export interface RespondOptions {
  /** Cancels the call (and a stream being read). */
  signal?: AbortSignal;
  /** The response cache, for translated calls (as for chat); forwarded calls are never cached. */
  cache?: CacheOption;
  /** Who the call is billed to: each ledger row of the call names them. */
  attribution?: UsageAttribution;
}
