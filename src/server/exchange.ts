import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TenantCaller } from '../tenants/tenant-admission.js';

/** One request being answered, as every route handler sees it. */
export interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** Echoed from `X-Request-Id`, or generated; sent back in the same header. */
  readonly requestId: string;
  /** Aborts when the caller disconnects, or when shutdown gives up waiting for this request. */
  readonly signal: AbortSignal;
  /** The virtual key (and team) that authenticated the request; undefined for a static key or an open route. */
  caller?: TenantCaller | undefined;
}
