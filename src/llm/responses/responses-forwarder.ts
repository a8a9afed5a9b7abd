import type { AppConfig } from '../../config/app-config.js';
import { linkSignals } from '../../internal/abort.js';
import type { Clock } from '../../internal/clock.js';
import type { RoutesConfig } from '../../routing/routes-config.js';
import type { AttemptRecord, CallPipeline, CallTarget } from '../call-pipeline.js';
import type { CallRecorder } from '../call-recorder.js';
import { addFailedAttempts, type CallTrace, newTrace } from '../call-trace.js';
import type { SseEvent } from '../http/sse-decoder.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { addPartialUsage } from '../partial-usage.js';
import type { PriceBook } from '../pricing.js';
import type { AzureTokenProvider } from '../providers/azure/azure-provider.js';
import { mapOpenAiError } from '../providers/openai/openai-errors.js';
import { providerError } from '../providers/provider-error-factory.js';
import { StreamWatchdog } from '../stream-watchdog.js';
import type { TokenUsage } from '../types.js';
import type { UsageAttribution } from '../usage-record.js';
import { onAbandon } from './on-abandon.js';
import { inputItemsQueryString } from './response-input-items-query.js';
import type { ResponseNotFoundError } from './response-not-found-error.js';
import { ResponseOrigins } from './response-origins.js';
import { usageOfResponse } from './response-usage.js';
import { ResponsesTargets } from './responses-targets.js';
import type { ResponseObject, ResponseStreamEvent, ResponsesBody, ResponsesResult } from './responses-types.js';
import { forwardsResponses } from './responses-upstream.js';
import type { ListResponseInputItemsOptions, RetrieveResponseOptions, StoredResponseOptions } from './retrieve-response-options.js';
import { atStoredResponse } from './retrieve-stored-response.js';
import {
  CANCEL,
  DELETE,
  type DeletedResponse,
  LIST_INPUT_ITEMS,
  RETRIEVE,
  type ResponseItemList,
  type StoredResponseOperation,
} from './stored-response-operation.js';
import { withoutExtensions } from './without-extensions.js';

/** What the forwarder runs on: the chat path's pipeline, prices and recorder. */
export interface ResponsesForwarderDeps {
  config: AppConfig;
  pipeline: CallPipeline;
  prices: PriceBook;
  recorder: CallRecorder;
  clock: Clock;
  azureTokenProvider?: AzureTokenProvider | undefined;
  /** The model groups of the routes file: a call whose model names one is routed over its deployments. @default none */
  routes?: RoutesConfig | undefined;
}

/** Per-call options of a forwarded Responses call. */
export interface ForwardOptions {
  signal?: AbortSignal | undefined;
  /** Who the call is billed to, for the ledger. */
  attribution?: UsageAttribution | undefined;
}

/** The final events of a stream, which carry the whole response. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
/** The events whose `delta` is output text the model wrote (not audio, which comes as base64). */
const TEXT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
  'response.audio.transcript.delta',
  'response.code_interpreter_call_code.delta',
  'response.mcp_call_arguments.delta',
]);

/** A forwarded stream whose first event has arrived, handed out of a pipeline attempt. */
interface StartedStream {
  first: IteratorResult<SseEvent, void>;
  iterator: AsyncIterator<SseEvent, void, undefined>;
  watchdog: StreamWatchdog;
  link: { signal: AbortSignal; dispose(): void };
  settle(usage: TokenUsage | undefined): void;
  headers: Record<string, string> | undefined;
  /** The upstream's `x-request-id`, named in the errors of a stream that breaks. */
  requestId: string | undefined;
}

/**
 * Forwards Responses API calls to OpenAI or Azure OpenAI with the body as the caller wrote it (only
 * `model` set to the target's, for Azure's deployment or a fallback), through the call path: the
 * fallbacks that also have the Responses API (a continuation only those where its previous response
 * is held: see {@link ResponsesTargets.targets}), retry with backoff and deadline, breaker, request and
 * token limits, concurrency, per-attempt timeout. A stream is retried until its first event
 * arrives, then passed on event by event, watched by the first-chunk and idle timeouts. Every call
 * is one ledger row with `operation = responses`, its usage and cost read from the response (for a
 * stream cut before its final event, the input's estimate and the output text delivered).
 * Requests go over the providers' HTTP client (undici, keep-alive pools) and fail with the same
 * typed errors as chat calls; {@link ResponsesForwarder.close} ends its connections. The target that
 * made each stored response is remembered (a bounded memory of recent ids), for retrieval.
 */
export class ResponsesForwarder {
  readonly #deps: ResponsesForwarderDeps;
  readonly #targets: ResponsesTargets;
  readonly #origins: ResponseOrigins;
  /** Made on the first forwarded call, so that a process that forwards none never loads undici. */
  #client: UpstreamClient | undefined;
  #closed = false;

  constructor(deps: ResponsesForwarderDeps) {
    this.#deps = deps;
    this.#targets = new ResponsesTargets(deps.config, deps.routes, deps.azureTokenProvider);
    this.#origins = new ResponseOrigins();
  }

  async create(asked: ResponsesBody, options: ForwardOptions = {}): Promise<ResponsesResult> {
    const body = withoutExtensions(asked);
    const { config } = this.#deps;
    const provider = config.llm.provider;
    if (!forwardsResponses(provider)) throw new Error(`The provider ${provider} has no Responses API to forward to`);
    const requested = typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : config.llm.model;
    const targets = this.#targets.targets(requested, body, this.#previousOrigin(body));
    const primary = targets[0]!;
    const trace = newTrace(primary.provider, primary.group === undefined ? primary.model : requested);
    const started = performance.now();
    const startedAt = new Date(this.#deps.clock.now());
    const record = (outcome: string) =>
      this.#deps.recorder.record({
        trace,
        operation: 'responses',
        promptName: undefined,
        promptVersion: undefined,
        startedAt,
        latencyMs: performance.now() - started,
        outcome,
        cacheHit: false,
        attribution: options.attribution,
      });
    // The input's estimate, serialised once: the plan's bound, and a cut stream's prompt.
    const inputTokens = this.#inputEstimate(body);
    const plan = {
      targets,
      estimatedTokens: inputTokens + this.#outputEstimate(body),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    try {
      if (body['stream'] !== true) {
        const outcome = await this.#deps.pipeline.execute(plan, async ({ target, signal }) => {
          let json: ResponseObject;
          let limits: Record<string, string> | undefined;
          let requestId: string | undefined;
          try {
            const upstream = this.#targets.upstream(target);
            const payload = JSON.stringify({ ...body, model: target.model });
            const answer = await this.#http().json(upstream.target(), 'POST', await upstream.headers(), payload, signal);
            json = answer.data as ResponseObject;
            limits = answer.rateLimitHeaders;
            requestId = answer.requestId;
          } catch (error) {
            throw mapOpenAiError(error, { ...target, signal });
          }
          const usage = usageOfResponse(json);
          return { value: { json, headers: limits, requestId }, ...(usage === undefined ? {} : { usage }) };
        });
        trace.attempts.push(...outcome.attempts);
        trace.requestId = outcome.value.requestId;
        this.#account(trace, outcome.target, outcome.value.json);
        if (stored(body)) this.#remember(outcome.value.json, outcome.target);
        record('success');
        return {
          stream: false,
          response: outcome.value.json,
          attempts: sent(outcome.attempts),
          cached: false,
          mode: 'forwarded',
          ...answeredBy(outcome.target),
          ...(outcome.value.headers === undefined ? {} : { rateLimitHeaders: outcome.value.headers }),
        };
      }
      const outcome = await this.#deps.pipeline.execute<StartedStream>(plan, (info) => this.#startStream(body, info, options.signal));
      trace.attempts.push(...outcome.attempts);
      return {
        stream: true,
        events: this.#events(outcome.value, outcome.target, trace, record, options.signal, stored(body), inputTokens),
        attempts: sent(outcome.attempts),
        cached: false,
        mode: 'forwarded',
        ...answeredBy(outcome.target),
        ...(outcome.value.headers === undefined ? {} : { rateLimitHeaders: outcome.value.headers }),
      };
    } catch (error) {
      addFailedAttempts(trace, error);
      record(outcomeOf(error, options.signal));
      throw error;
    }
  }

  /**
   * `GET /responses/{id}` wherever a forwarded call could have stored it (responses are kept unless
   * sent with `store: false`): first at the upstream that made it (or last had it), when this
   * process remembers the id, then at each other upstream in turn, the primary provider, the
   * fallbacks with the Responses API and the OpenAI and Azure deployments of the model groups, each
   * distinct upstream (endpoint and credentials) asked once, until one has it. With `models`, only
   * the upstreams a call for one of them could reach are asked. A failure other than 404 of an
   * upstream other than the remembered one does not end the search: 401, 5xx, its share of the time
   * used up, credentials that could not be fetched (an Azure token provider that threw), a
   * configuration it cannot be set up from, and a 400 or 422 too, with or without `query`, since
   * upstreams accept different `include[]` values. Each is noted; when no upstream has the
   * response, the first such failure is thrown, naming its upstream and those that answered 404 (see
   * {@link atStoredResponse}), so a query every upstream refuses comes back as the first
   * refusal. When every upstream answered 404, a {@link ResponseNotFoundError} names them. The
   * whole lookup takes at most one `resilience.timeoutMs`, whatever the number of upstreams, each
   * given its share of what is left; once it is up, no further upstream is asked. Not through the
   * limits: it makes no model call.
   */
  async retrieve(id: string, options: RetrieveResponseOptions = {}): Promise<ResponseObject> {
    return this.#atStored(id, RETRIEVE, options, options.query === '' ? undefined : options.query);
  }

  /**
   * `POST /responses/{id}/cancel` at the upstream that holds the response, found as {@link retrieve}
   * finds it (the same order, time, failure rules and `models`): a background response that is
   * queued or in progress becomes `cancelled`, as the upstream answers. The upstream's refusal (its
   * 400 for a response not made in the background) is thrown as that upstream's error. Sent once,
   * only to the upstream holding the response (found by retrieval unless remembered); an answer once
   * sent that leaves its outcome unknown is an error with `outcomeUnknown: true` (see {@link atStoredResponse}).
   */
  async cancel(id: string, options: StoredResponseOptions = {}): Promise<ResponseObject> {
    return this.#atStored(id, CANCEL, options, undefined);
  }

  /**
   * `DELETE /responses/{id}` at the upstream that holds the response, found as {@link retrieve}
   * finds it; the upstream's answer as it sent it. The id is then forgotten: no upstream is asked
   * first for it. Sent once, only to the upstream holding the response, as {@link cancel} is.
   */
  async delete(id: string, options: StoredResponseOptions = {}): Promise<DeletedResponse> {
    return this.#atStored(id, DELETE, options, undefined);
  }

  /**
   * `GET /responses/{id}/input_items` at the upstream that holds the response, found as
   * {@link retrieve} finds it: a page of the items it was made from, with `options.query` (checked
   * fields, or the caller's query as written).
   */
  async listInputItems(id: string, options: ListResponseInputItemsOptions = {}): Promise<ResponseItemList> {
    return this.#atStored(id, LIST_INPUT_ITEMS, options, inputItemsQueryString(options.query));
  }

  /** Ends the pooled connections to the upstreams once their requests are over; later calls fail. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.close();
  }

  /** `operation` on the stored response `id`, wherever it is kept (see {@link retrieve}). */
  async #atStored<T>(
    id: string,
    operation: StoredResponseOperation<T>,
    options: StoredResponseOptions,
    query: string | undefined,
  ): Promise<T> {
    const provider = this.#deps.config.llm.provider;
    if (!forwardsResponses(provider)) throw new Error(`The provider ${provider} keeps no responses`);
    // `.` and `..` stay as they are once encoded, and would name another path at the upstream.
    if (typeof id !== 'string' || id === '' || id === '.' || id === '..')
      throw new TypeError(`A stored response's id must be a non-empty string other than "." and "..", not ${JSON.stringify(id)}`);
    const { clock, config } = this.#deps;
    return atStoredResponse(
      id,
      {
        query,
        signal: options.signal,
        timeoutMs: config.resilience.timeoutMs,
        clock,
        provider,
        targets: this.#targets,
        origins: this.#origins,
        http: () => this.#http(),
        reachable: this.#targets.reachable(options.models),
      },
      operation,
    );
  }

  /** The HTTP client, made on first use with the providers' backstop timeout. */
  #http(): UpstreamClient {
    if (this.#closed) throw new Error('The Responses forwarder is closed');
    this.#client ??= new UpstreamClient({ timeoutMs: this.#deps.config.resilience.timeoutMs });
    return this.#client;
  }

  async #startStream(
    body: ResponsesBody,
    { target, signal }: { target: CallTarget; signal: AbortSignal },
    callSignal: AbortSignal | undefined,
  ): Promise<{ value: StartedStream; usage: Promise<TokenUsage | undefined> }> {
    const { llm } = this.#deps.config;
    const watchdog = new StreamWatchdog(this.#deps.clock, llm.streamFirstChunkTimeoutMs, llm.streamIdleTimeoutMs, target);
    // The call's own signal too: the pipeline may unlink the attempt's signal once the attempt resolves.
    const link = linkSignals(signal, watchdog.signal, callSignal);
    try {
      const upstream = this.#targets.upstream(target);
      const answer = await this.#http().stream(
        upstream.target(),
        await upstream.headers(),
        JSON.stringify({ ...body, model: target.model }),
        link.signal,
      );
      const iterator = answer.events;
      // Until the first event, a failure is retried; after it, the caller has seen the answer begin.
      const first = await iterator.next();
      if (first.done) throw providerError('connection', 'the stream ended before its first event', target);
      watchdog.touch();
      let settle: (usage: TokenUsage | undefined) => void = () => {};
      const usage = new Promise<TokenUsage | undefined>((resolve) => {
        settle = resolve;
      });
      return {
        value: { first, iterator, watchdog, link, settle, headers: answer.rateLimitHeaders, requestId: answer.requestId },
        usage,
      };
    } catch (error) {
      watchdog.stop();
      const mapped = mapOpenAiError(error, { ...target, signal: link.signal });
      link.dispose();
      throw mapped;
    }
  }

  #events(
    stream: StartedStream,
    target: CallTarget,
    trace: CallTrace,
    record: (outcome: string) => void,
    callSignal: AbortSignal | undefined,
    keep: boolean,
    /** The input's estimate, counted for a stream cut before its final event. */
    promptTokens: number,
  ): AsyncIterable<ResponseStreamEvent> {
    const { first, iterator, watchdog, link, settle, requestId } = stream;
    trace.requestId = requestId;
    let final: ResponseObject | undefined;
    /** The output text streamed so far and the model the events name, for a stream cut before its final event. */
    let delivered = '';
    let reportedModel: unknown;
    let closed = false;
    // The first event (`response.created`) carries the id: remembered then, for a retrieval while the stream runs.
    let remembered = !keep;
    const remember = (response: unknown) => {
      remembered = this.#remember(response, target);
    };
    const close = (outcome: string) => {
      if (closed) return;
      closed = true;
      watchdog.stop();
      link.dispose();
      if (final !== undefined) {
        this.#account(trace, target, final);
        settle(usageOfResponse(final));
      } else settle(this.#accountCut(trace, target, reportedModel, promptTokens, delivered));
      record(outcome);
    };
    async function* events(): AsyncGenerator<ResponseStreamEvent, void, undefined> {
      let outcome = 'cancelled';
      try {
        for (let step = first; !step.done; step = await iterator.next()) {
          watchdog.touch();
          const event = parseEvent(step.value, target);
          if (event === undefined) continue;
          if (!remembered) remember(event['response']);
          reportedModel ??= (event['response'] as { model?: unknown } | undefined)?.model;
          if (FINAL_EVENTS.has(event.type)) final = event['response'] as ResponseObject;
          else if (TEXT_DELTAS.has(event.type) && typeof event['delta'] === 'string') delivered += event['delta'];
          if (event.type === 'error') outcome = 'upstream_stream_error';
          yield event;
        }
        if (final === undefined && outcome !== 'upstream_stream_error') {
          throw providerError('connection', 'the stream ended before the response was complete', {
            ...target,
            ...(requestId === undefined ? {} : { requestId }),
          });
        }
        outcome = final?.['status'] === 'failed' ? 'upstream_failed' : outcome === 'cancelled' ? 'success' : outcome;
      } catch (error) {
        const mapped = mapOpenAiError(error, { ...target, signal: link.signal });
        outcome = callSignal?.aborted === true ? 'cancelled' : ((mapped as { code?: string }).code ?? 'error');
        throw mapped;
      } finally {
        if (outcome === 'cancelled') await iterator.return?.().catch(() => undefined);
        close(outcome);
      }
    }
    return onAbandon(events(), async () => {
      await iterator.return?.().catch(() => undefined);
      close('cancelled');
    });
  }

  /** The target that made the response a call continues (`previous_response_id`), when this process remembers it. */
  #previousOrigin(body: ResponsesBody): CallTarget | undefined {
    const previous = body['previous_response_id'];
    return typeof previous === 'string' && previous !== '' ? this.#origins.recall(previous) : undefined;
  }

  /** Notes the target that made `response`, when it carries an id; whether it did. */
  #remember(response: unknown, target: CallTarget): boolean {
    const id = (response as { id?: unknown } | null | undefined)?.id;
    if (typeof id !== 'string' || id === '') return false;
    this.#origins.remember(id, target);
    return true;
  }

  #account(trace: CallTrace, target: CallTarget, response: ResponseObject): void {
    const usage = usageOfResponse(response);
    trace.provider = target.provider;
    trace.model = target.model;
    trace.deployment = target.deployment;
    if (usage === undefined) return;
    trace.usage = usage;
    trace.costUsd = this.#deps.prices.cost(this.#deps.prices.pricedModel(response['model'], target.model), usage);
  }

  /**
   * Accounts a stream cut before its final event, which the provider never reports the usage of:
   * the input as estimated and the output text delivered so far (see {@link addPartialUsage}),
   * priced as an answer is (by the model the events named, when it has a price). Returns that usage.
   */
  #accountCut(trace: CallTrace, target: CallTarget, reported: unknown, promptTokens: number, delivered: string): TokenUsage {
    trace.provider = target.provider;
    trace.model = target.model;
    trace.deployment = target.deployment;
    const usage = addPartialUsage(trace, promptTokens, delivered);
    trace.costUsd += this.#deps.prices.cost(this.#deps.prices.pricedModel(reported, target.model), usage);
    return usage;
  }

  /** The output tokens to reserve: `max_output_tokens`, else the configured estimate. */
  #outputEstimate(body: ResponsesBody): number {
    return typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : this.#deps.config.llm.outputTokensEstimate;
  }

  /** The input's tokens as estimated: its `input` and `instructions` as JSON, at four characters a token. */
  #inputEstimate(body: ResponsesBody): number {
    const text = JSON.stringify(body['input'] ?? '').length + JSON.stringify(body['instructions'] ?? '').length;
    return Math.ceil(text / 4);
  }
}

/**
 * One upstream event as JSON; its `type` from the data, else the event name. Undefined for the
 * `[DONE]` an OpenAI-compatible upstream may send after the final event, which OpenAI's SDKs skip too.
 */
function parseEvent(event: SseEvent, target: CallTarget): ResponseStreamEvent | undefined {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch (error) {
    if (event.data.startsWith('[DONE]')) return undefined;
    throw providerError('malformed_response', 'a stream event was not valid JSON', { ...target, cause: error });
  }
  if (typeof data !== 'object' || data === null) throw providerError('malformed_response', 'a stream event was not an object', target);
  const record = data as Record<string, unknown>;
  return { ...record, type: typeof record['type'] === 'string' ? record['type'] : (event.event ?? 'message') };
}

/** Whether the upstream keeps the response a call makes: unless the call says `store: false`. */
function stored(body: ResponsesBody): boolean {
  return body['store'] !== false;
}

/** The deployment of a model group that answered, and its model; nothing for a call to no group. */
function answeredBy(target: CallTarget): { deployment?: string; deploymentModel?: string } {
  return target.deployment === undefined ? {} : { deployment: target.deployment, deploymentModel: target.model };
}

/** Attempts that reached a provider: those skipped (an open breaker, say) sent nothing. */
function sent(attempts: readonly AttemptRecord[]): number {
  return attempts.filter((attempt) => attempt.outcome !== 'skipped').length;
}

function outcomeOf(error: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted === true) return 'cancelled';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}
