import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import type { LlmClient } from '../../llm/llm-client-types.js';
import type { ResponseObject, ResponsesBody, ResponsesResult } from '../../llm/responses/responses-types.js';
import { forwardsResponses } from '../../llm/responses/responses-upstream.js';
import type {
  ListResponseInputItemsOptions,
  RetrieveResponseOptions,
  StoredResponseOptions,
} from '../../llm/responses/retrieve-response-options.js';
import type { DeletedResponse, ResponseItemList } from '../../llm/responses/stored-response-operation.js';
import type { UsageAttribution } from '../../llm/usage-record.js';

/** How one forwarded Responses call is made. */
export interface ForwardResponseOptions {
  signal: AbortSignal;
  requestId?: string;
  /** The virtual key (and team) the call is billed to in the ledger. */
  attribution?: UsageAttribution;
}

/**
 * The Responses API as `serve` offers it. With OpenAI or Azure OpenAI as the primary provider
 * (`mode: 'forwarded'`) calls go to it and its fallbacks (or a model group's deployments), and
 * retrievals to whichever of them holds the response; otherwise (`translated`) the route
 * translates each call to the backend's own `complete` and `stream`, so that a virtual key's
 * budgets and limits apply as for chat.
 */
export interface ServiceResponses {
  readonly mode: 'forwarded' | 'translated';
  /** The provider that answers, named in refusals. */
  readonly provider: LlmProviderName;
  /** Forwards one call (`mode: 'forwarded'` only). */
  forward(body: ResponsesBody, options: ForwardResponseOptions): Promise<ResponsesResult>;
  /**
   * Retrieves a response an upstream keeps, wherever a forwarded call stored it (`mode: 'forwarded'`
   * only); `query` as the caller sent it; with `models`, only at the upstreams a call for one of them could reach.
   */
  retrieve(id: string, options: RetrieveResponseOptions): Promise<ResponseObject>;
  /** Cancels a background response wherever it is kept, found as {@link retrieve} finds it (`mode: 'forwarded'` only). */
  cancel(id: string, options: StoredResponseOptions): Promise<ResponseObject>;
  /** Deletes a response wherever it is kept, found as {@link retrieve} finds it (`mode: 'forwarded'` only); the upstream's answer. */
  delete(id: string, options: StoredResponseOptions): Promise<DeletedResponse>;
  /**
   * A page of a stored response's input items, found as {@link retrieve} finds it (`mode: 'forwarded'`
   * only); `query` as the caller sent it (`limit=…&order=…`).
   */
  listInputItems(id: string, options: ListResponseInputItemsOptions): Promise<ResponseItemList>;
}

/** The LLM client's methods the service's Responses API runs on; those about stored responses may be absent (a test double). */
export type ResponsesLlm = Partial<
  Pick<LlmClient, 'respond' | 'retrieveResponse' | 'cancelResponse' | 'deleteResponse' | 'listResponseInputItems'>
>;

/** The service's Responses API over the LLM client's `respond`, `retrieveResponse` and the other stored-response methods. */
export function serviceResponses(config: AppConfig, llm: ResponsesLlm): ServiceResponses {
  const provider = config.llm.provider;
  return {
    mode: forwardsResponses(provider) ? 'forwarded' : 'translated',
    provider,
    forward: (body, options) =>
      llm.respond!(body, { signal: options.signal, ...(options.attribution === undefined ? {} : { attribution: options.attribution }) }),
    retrieve: (id, options) => llm.retrieveResponse!(id, options),
    cancel: (id, options) => llm.cancelResponse!(id, options),
    delete: (id, options) => llm.deleteResponse!(id, options),
    listInputItems: (id, options) => llm.listResponseInputItems!(id, options),
  };
}
