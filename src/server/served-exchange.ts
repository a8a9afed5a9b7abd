import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallSignal } from '../llm/call-signal.js';
import type { TenantCaller } from '../tenants/tenant-admission.js';
import type { Exchange } from './exchange.js';

/**
 * The {@link Exchange} the server hands its routes. Its `AbortSignal` is made only when a route
 * reads {@link signal}: a JSON chat call hands the LLM client {@link cancellation} instead, so a
 * request that no one cancels costs no `AbortController` and no `EventTarget` listener.
 */
export class ServedExchange implements Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly cancellation: CallSignal;
  caller?: TenantCaller | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, requestId: string, cancellation: CallSignal) {
    this.request = request;
    this.response = response;
    this.requestId = requestId;
    this.cancellation = cancellation;
  }

  get signal(): AbortSignal {
    return this.cancellation.signal;
  }
}
