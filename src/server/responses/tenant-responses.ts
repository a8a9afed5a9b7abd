import { usageOfResponse } from '../../llm/responses/response-usage.js';
import type { ResponseStreamEvent, ResponsesBody, ResponsesResult } from '../../llm/responses/responses-types.js';
import type { TokenUsage } from '../../llm/types.js';
import { NON_TEXT_PART_TOKENS } from '../../tenants/call-cost-bound.js';
import type { TenantRateLimitState } from '../../tenants/rate-limit-state.js';
import { type Admission, callerModels, type TenantCaller } from '../../tenants/tenant-admission.js';
import { HttpError } from '../http-error.js';
import type { ServiceTenants } from '../service-tenants.js';
import type { ServiceResponses } from './service-responses.js';

/**
 * Fields whose cost no reservation can bound before the call: a stored conversation's tokens, a
 * stored prompt's instructions (expanded by the provider, of any length), a call finished later.
 */
const UNBOUNDED_FIELDS = ['previous_response_id', 'conversation', 'prompt', 'background'] as const;
const NON_TEXT_PARTS = new Set(['input_image', 'input_file', 'input_audio']);
/** Events that end a streamed response, with its usage. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Forwarded Responses calls (OpenAI, Azure OpenAI upstream) as one virtual key makes them,
 * admitted like a chat call: the key's models, limits and calls in flight, and its worst-case
 * cost reserved on its and its team's budgets (the input's token bound, and `max_output_tokens`,
 * else the configured ceiling, which the forwarded body then carries), settled to the usage the
 * response reports (its JSON, or the final `response.completed` event of a stream), refunded when
 * the call failed before it began, and charged its whole reservation when a stream broke off.
 */
export function tenantResponses(
  responses: ServiceResponses,
  tenants: ServiceTenants,
  caller: TenantCaller,
  onRateLimit: (state: TenantRateLimitState) => void,
  /** Strips the provider's own `x-ratelimit-*-requests|tokens` headers once the key's were reported. */
  ownHeaders: (headers: Record<string, string> | undefined) => Record<string, string> | undefined,
): ServiceResponses {
  const attribution = { keyId: caller.key.id, teamId: caller.team?.id ?? null };
  /** A request about a stored response, as the key may make it: its team enabled, only the upstreams its models reach. */
  const scoped = <T extends { models?: readonly string[] | undefined }>(options: T): T => {
    tenants.admission.checkStatus(caller);
    const models = callerModels(caller);
    return models === undefined ? options : { ...options, models };
  };
  return {
    ...responses,
    // Only where a call of the key could go: another model group's deployments may hold another's
    // responses. Refused like a call: a disabled team's keys reach none. Nothing is charged.
    retrieve: (id, options) => responses.retrieve(id, scoped(options)),
    cancel: (id, options) => responses.cancel(id, scoped(options)),
    delete: (id, options) => responses.delete(id, scoped(options)),
    listInputItems: (id, options) => responses.listInputItems(id, scoped(options)),
    async forward(body, options) {
      const unbounded = UNBOUNDED_FIELDS.filter((field) => body[field] !== undefined && body[field] !== null && body[field] !== false);
      if (unbounded.length > 0) {
        throw new HttpError({
          status: 403,
          type: 'permission_error',
          code: 'responses_not_budgeted',
          message: `A virtual key cannot send ${unbounded.join(', ')} on /v1/responses: the cost of such a call cannot be bounded before it is made, so it cannot be reserved against the key's budget.`,
        });
      }
      const model = typeof body['model'] === 'string' ? body['model'] : '';
      const asked = typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : undefined;
      let reported = false;
      const admission = await tenants.admission.admit(
        caller,
        { model, messages: [], inputTokens: responsesInputTokenBound(body), ...(asked === undefined ? {} : { maxTokens: asked }) },
        options.signal,
        (state) => {
          reported = true;
          onRateLimit(state);
        },
      );
      const forwarded: ResponsesBody = asked === admission.maxTokens ? body : { ...body, max_output_tokens: admission.maxTokens };
      let result: ResponsesResult;
      try {
        result = await responses.forward(forwarded, { ...options, attribution });
      } catch (error) {
        await admission.settle(0, 0);
        throw error;
      }
      if (reported) {
        const headers = ownHeaders(result.rateLimitHeaders);
        result = headers === undefined ? { ...result } : { ...result, rateLimitHeaders: headers };
      }
      // Settled at the price the ledger records: the model the provider reports when it has a price
      // (an Azure deployment's name has none), else the model of the deployment that answered.
      const sentTo = result.deploymentModel ?? model;
      const cost = (usage: TokenUsage, reported: unknown) => tenants.prices.cost(tenants.prices.pricedModel(reported, sentTo), usage);
      if (!result.stream) {
        const usage = usageOf(result.response);
        await admission.settle(
          usage === undefined ? admission.reservedUsd : cost(usage, result.response['model']),
          usage?.totalTokens ?? 0,
        );
        return result;
      }
      return { ...result, events: settledEvents(result.events, admission, cost) };
    },
  };
}

/** The events as they come; the admission settled on the final one's usage, or to its whole reservation when none came. */
async function* settledEvents(
  events: AsyncIterable<ResponseStreamEvent>,
  admission: Admission,
  cost: (usage: TokenUsage, reported: unknown) => number,
): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  let settled = false;
  try {
    for await (const event of events) {
      if (!settled && FINAL_EVENTS.has(event.type)) {
        const response = event['response'] as { usage?: unknown; model?: unknown } | undefined;
        const usage = usageOf(response);
        if (usage !== undefined) {
          settled = true;
          await admission.settle(cost(usage, response?.model), usage.totalTokens);
        }
      }
      yield event;
    }
  } finally {
    // Cut after it began (an error event, the caller gone): what the provider billed is unknown.
    if (!settled) await admission.settle(admission.reservedUsd, 0);
  }
}

/**
 * A `Response`'s usage as the ledger counts it (cached input and reasoning tokens kept, so the key
 * pays what the ledger row costs); undefined when it reports no `input_tokens` and `output_tokens`.
 */
function usageOf(response: unknown): TokenUsage | undefined {
  const usage = (response as { usage?: unknown } | null | undefined)?.usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const { input_tokens: input, output_tokens: output } = usage as { input_tokens?: unknown; output_tokens?: unknown };
  if (typeof input !== 'number' || typeof output !== 'number') return undefined;
  return usageOfResponse(response);
}

/**
 * An upper bound of a Responses call's input tokens: the UTF-8 bytes of its `instructions`,
 * `input`, `tools`, `tool_choice` and `text` (the answer format's JSON schema, billed as prompt)
 * as JSON (no byte-level BPE token covers less than a byte, and the JSON holds every text with
 * room to spare for the framing), each image, file or audio part counted as
 * {@link NON_TEXT_PART_TOKENS} instead of its bytes.
 */
export function responsesInputTokenBound(body: ResponsesBody): number {
  let parts = 0;
  const billed = [
    body['instructions'] ?? null,
    body['input'] ?? null,
    body['tools'] ?? null,
    body['tool_choice'] ?? null,
    body['text'] ?? null,
  ];
  const text = JSON.stringify(billed, (_, value: unknown) => {
    if (typeof value === 'object' && value !== null && NON_TEXT_PARTS.has(String((value as { type?: unknown }).type))) {
      parts++;
      return null;
    }
    return value;
  });
  return Buffer.byteLength(text, 'utf8') + parts * NON_TEXT_PART_TOKENS;
}
