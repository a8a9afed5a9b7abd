import { cacheKey } from '../cache/cache-key.js';
import type { EmbeddingCache } from '../cache/embedding-cache.js';
import { replayAsStream } from '../cache/replay-as-stream.js';
import { resolveCacheMode, wantsCache } from '../cache/resolve-cache-mode.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { uncachedAnswer } from '../cache/uncached-answer.js';
import type { AppConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { deploymentAppConfig } from '../routing/deployment-app-config.js';
import { groupCallTargets } from '../routing/router.js';
import type { RoutesConfig } from '../routing/routes-config.js';
import { AsyncQueue } from './async-queue.js';
import { CallEngine, type EngineStreamEvent } from './call-engine.js';
import type { CallTarget } from './call-pipeline.js';
import { type CallPipeline, directPipeline } from './call-pipeline.js';
import { CallRecorder } from './call-recorder.js';
import { type CallCancellation, callAborted } from './call-signal.js';
import { addFailedAttempts, type CallTrace, newTrace } from './call-trace.js';
import { ComputeWatch } from './compute-watch.js';
import { drainCalls } from './drain-calls.js';
import type { EmbedOptions, VectorFormat } from './embeddings/embed-options.js';
import type { EmbedResult } from './embeddings/embed-result.js';
import { EmbeddingEngine } from './embeddings/embedding-engine.js';
import type { EmbeddingInput } from './embeddings/embedding-request.js';
import { estimateRequestTokens } from './estimate-tokens.js';
import { InFlightCalls } from './in-flight-calls.js';
import type {
  LlmCallOptions,
  LlmClient,
  LlmCompleteRequest,
  LlmResponse,
  LlmResponseMetadata,
  LlmStreamEvent,
  LlmStreamStart,
} from './llm-client-types.js';
import { LlmClientClosedError, LlmRequestError } from './llm-errors.js';
import { type PreparedCall, signalOf } from './prepared-call.js';
import { PriceBook } from './pricing.js';
import type { Prompt, PromptContext } from './prompt.js';
import type { AzureTokenProvider } from './providers/azure/azure-provider.js';
import type { CreateProviderOptions } from './providers/provider-settings.js';
import { llmChatPort } from './responses/llm-chat-port.js';
import { respondCounted } from './responses/respond-counted.js';
import type { RespondOptions } from './responses/respond-options.js';
import { ResponsesCacheUnsupportedError } from './responses/responses-cache-unsupported-error.js';
import { ResponsesForwarder } from './responses/responses-forwarder.js';
import type { ResponseObject, ResponsesBody, ResponsesResult } from './responses/responses-types.js';
import { forwardsResponses } from './responses/responses-upstream.js';
import type {
  ListResponseInputItemsOptions,
  RetrieveResponseOptions,
  StoredResponseOptions,
} from './responses/retrieve-response-options.js';
import type { DeletedResponse, ResponseItemList } from './responses/stored-response-operation.js';
import { translatedResponse } from './responses/translated-response.js';
import { parseStructured } from './structured-output.js';
import { hasExecutableTools, toFunctionTools } from './tools/tool-definitions.js';
import type { ChatCompletion, ChatMessage, ChatRequest, LlmProvider } from './types.js';
import { UsageLedger } from './usage-ledger.js';
import type { UsageSink } from './usage-record.js';
import { validateRequest } from './validate-request.js';

/** What {@link createLlmClient} is built from besides the configuration. Only `logger` is required. */
export interface LlmClientDeps {
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** Drives the stream timeouts and the ledger's flush timer. @default systemClock */
  clock?: Clock | undefined;
  /** The resilience stack. @default directPipeline (one attempt, no limits) */
  pipeline?: CallPipeline | undefined;
  /** The response cache. @default none */
  cache?: ResponseCache | undefined;
  /** Where usage rows go (the database). @default none: no ledger */
  usageSink?: UsageSink | undefined;
  /** Ready adapters, used instead of building them from the configuration (tests, custom providers). */
  providers?: Partial<Record<LlmProviderName, LlmProvider>> | undefined;
  /** An Entra ID token provider for Azure OpenAI, instead of `AZURE_OPENAI_API_KEY`. */
  azureTokenProvider?: AzureTokenProvider | undefined;
  /** How Gemini on Vertex AI authenticates. @default application default credentials */
  googleAuthOptions?: CreateProviderOptions['googleAuthOptions'];
  /** The embeddings' per-input cache. @default none */
  embeddingCache?: EmbeddingCache | undefined;
  /** The model groups of the routes file: a call whose model names one is routed over its deployments. @default none */
  routes?: RoutesConfig | undefined;
  /** Tokens a request may use, reserved against the tokens-per-minute limit. @default 4 characters a token plus max tokens */
  estimateTokens?: ((request: ChatRequest) => number) | undefined;
}

/** Builds a provider's adapter from the configuration; throws `LlmNotConfiguredError` when settings are missing. */
export type ProviderFactory = (name: LlmProviderName, config: AppConfig, options: CreateProviderOptions) => LlmProvider;

/**
 * Builds the LLM client over `createProvider`, which builds each adapter on first use (so an unconfigured
 * provider fails only when called). `createLlmClient` passes the adapters' own factory; this module does
 * not import them, so that a process that creates no provider does not load them.
 */
export function openLlmClient(config: AppConfig, deps: LlmClientDeps, createProvider: ProviderFactory): LlmClient {
  return new GroundworkLlmClient(config, deps, createProvider);
}

class GroundworkLlmClient implements LlmClient {
  readonly #config: AppConfig;
  readonly #deps: LlmClientDeps;
  readonly #providers = new Map<LlmProviderName, LlmProvider>();
  readonly #deploymentProviders = new Map<string, LlmProvider>();
  readonly #created: LlmProvider[] = [];
  readonly #ledger: UsageLedger | undefined;
  readonly #recorder: CallRecorder;
  readonly #engine: CallEngine;
  readonly #embeddings: EmbeddingEngine;
  readonly #responses: ResponsesForwarder;
  readonly #inFlight = new InFlightCalls();
  readonly #logger: Logger;
  /** Ledger rows of calls whose caller has gone, written once the compute they started ends. */
  readonly #pendingRows = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  readonly #createProvider: ProviderFactory;

  constructor(config: AppConfig, deps: LlmClientDeps, createProvider: ProviderFactory) {
    this.#config = config;
    this.#deps = deps;
    this.#createProvider = createProvider;
    const logger = deps.logger.child({ component: 'llm' });
    this.#logger = logger;
    if (deps.usageSink !== undefined && config.llm.ledger.enabled) {
      this.#ledger = new UsageLedger({
        sink: deps.usageSink,
        logger,
        metrics: deps.metrics,
        clock: deps.clock,
        batchSize: config.llm.ledger.batchSize,
        flushIntervalMs: config.llm.ledger.flushIntervalMs,
      });
    }
    this.#recorder = new CallRecorder(logger, deps.metrics, this.#ledger);
    const prices = new PriceBook(config.llm.prices);
    this.#embeddings = new EmbeddingEngine({
      config,
      pipeline: deps.pipeline ?? directPipeline,
      prices,
      provider: (name) => this.getProvider(name),
      cache: deps.embeddingCache,
      groupTargets: (model) => this.#groupTargets(model),
      deploymentProvider: (target) => this.#providerFor(target),
      logger,
      metrics: deps.metrics,
    });
    this.#responses = new ResponsesForwarder({
      config,
      pipeline: deps.pipeline ?? directPipeline,
      prices,
      recorder: this.#recorder,
      clock: deps.clock ?? systemClock,
      azureTokenProvider: deps.azureTokenProvider,
      routes: deps.routes,
    });
    this.#engine = new CallEngine({
      config,
      pipeline: deps.pipeline ?? directPipeline,
      prices,
      clock: deps.clock ?? systemClock,
      logger,
      metrics: deps.metrics,
      provider: (target) => this.#providerFor(target),
      estimateTokens: deps.estimateTokens ?? ((request) => estimateRequestTokens(request, config.llm.outputTokensEstimate)),
    });
  }

  getProvider(name: LlmProviderName = this.#config.llm.provider): LlmProvider {
    const injected = this.#deps.providers?.[name];
    if (injected !== undefined) return injected;
    let provider = this.#providers.get(name);
    if (provider === undefined) {
      provider = this.#createProvider(name, this.#config, {
        azureTokenProvider: this.#deps.azureTokenProvider,
        googleAuthOptions: this.#deps.googleAuthOptions,
      });
      this.#providers.set(name, provider);
      this.#created.push(provider);
    }
    return provider;
  }

  /** The adapter of a target: a deployment's own (its credentials and endpoint), else its provider's. */
  #providerFor(target: CallTarget): LlmProvider {
    if (target.group === undefined || target.deployment === undefined) return this.getProvider(target.provider);
    const key = `${target.group}/${target.deployment}`;
    let provider = this.#deploymentProviders.get(key);
    if (provider === undefined) {
      const deployment = this.#deps.routes?.groups[target.group]?.deployments.find((entry) => entry.name === target.deployment);
      if (deployment === undefined) throw new TypeError(`No deployment "${key}" in the routes file`);
      provider = this.#createProvider(deployment.provider, deploymentAppConfig(this.#config, deployment), {
        googleAuthOptions: this.#deps.googleAuthOptions,
      });
      this.#deploymentProviders.set(key, provider);
      this.#created.push(provider);
    }
    return provider;
  }

  /** The targets of a call for `model` when it names a model group: its deployments, then its fallback groups'. */
  #groupTargets(model: string): CallTarget[] | undefined {
    const groups = this.#deps.routes?.groups;
    return groups === undefined ? undefined : groupCallTargets(groups, model);
  }

  async ping(name?: LlmProviderName, signal?: AbortSignal): Promise<{ provider: LlmProviderName; latencyMs: number }> {
    this.#assertOpen();
    const provider = this.getProvider(name);
    const started = performance.now();
    await provider.ping(signal ?? AbortSignal.timeout(10_000));
    return { provider: provider.name, latencyMs: Math.round(performance.now() - started) };
  }

  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options: LlmCallOptions = {},
  ): Promise<LlmResponse<Output>> {
    try {
      return this.#execute<Output>(this.#preparePrompt(prompt, context, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  complete(request: LlmCompleteRequest, options: LlmCallOptions = {}): Promise<LlmResponse<undefined>> {
    try {
      return this.#execute<undefined>(this.#prepare(request.messages, request, options, undefined));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options: LlmCallOptions = {},
  ): AsyncIterable<LlmStreamEvent<Output>> {
    return this.#stream<Output>(this.#preparePrompt(prompt, context, options));
  }

  stream(request: LlmCompleteRequest, options: LlmCallOptions = {}): AsyncIterable<LlmStreamEvent<undefined>> {
    return this.#stream<undefined>(this.#prepare(request.messages, request, options, undefined));
  }

  async embed<F extends VectorFormat = 'float32'>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options: EmbedOptions<F> = {},
  ): Promise<EmbedResult<F>> {
    this.#assertOpen();
    const started = performance.now();
    const startedAt = new Date((this.#deps.clock ?? systemClock).now());
    const trace = this.#embeddings.startTrace(options);
    const end = this.#inFlight.begin();
    const linked = this.#inFlight.link(options.signal);
    const call = {
      promptName: undefined,
      promptVersion: undefined,
      startedAt,
      operation: 'embeddings' as const,
      attribution: options.attribution,
    };
    try {
      const result = await this.#embeddings.embed(input, { ...options, signal: linked.signal }, trace);
      const cacheHit = result.metadata.batches === 0;
      this.#recorder.record({ ...call, trace, latencyMs: performance.now() - started, outcome: 'success', cacheHit });
      return result;
    } catch (error) {
      addFailedAttempts(trace, error);
      const outcome = outcomeOf(error, { cancellation: linked });
      this.#recorder.record({ ...call, trace, latencyMs: performance.now() - started, outcome, cacheHit: false });
      throw error;
    } finally {
      linked.dispose();
      end();
    }
  }

  async respond(body: ResponsesBody, options: RespondOptions = {}): Promise<ResponsesResult> {
    this.#assertOpen();
    const provider = this.#config.llm.provider;
    // The cache holds chat answers: a forwarded call asked to be answered or stored by it would be
    // sent on uncached without a word, so it is refused; asked to bypass it, it is as asked.
    const forwarded = forwardsResponses(provider);
    if (forwarded && wantsCache(options.cache)) throw new ResponsesCacheUnsupportedError(provider, 'cache');
    return respondCounted(this.#inFlight, options.signal, (signal) =>
      forwarded
        ? this.#responses.create(body, { signal, attribution: options.attribution })
        : translatedResponse(body, provider, llmChatPort(this, options), signal, { logger: this.#logger, metrics: this.#deps.metrics }),
    );
  }

  retrieveResponse(id: string, options: RetrieveResponseOptions = {}): Promise<ResponseObject> {
    return this.#stored(options, (signal) => this.#responses.retrieve(id, { ...options, signal }));
  }

  cancelResponse(id: string, options: StoredResponseOptions = {}): Promise<ResponseObject> {
    return this.#stored(options, (signal) => this.#responses.cancel(id, { ...options, signal }));
  }

  deleteResponse(id: string, options: StoredResponseOptions = {}): Promise<DeletedResponse> {
    return this.#stored(options, (signal) => this.#responses.delete(id, { ...options, signal }));
  }

  listResponseInputItems(id: string, options: ListResponseInputItemsOptions = {}): Promise<ResponseItemList> {
    return this.#stored(options, (signal) => this.#responses.listInputItems(id, { ...options, signal }));
  }

  async flush(): Promise<void> {
    while (this.#pendingRows.size > 0) await Promise.all(this.#pendingRows);
    await this.#ledger?.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await drainCalls(this.#inFlight, this.#config, this.#deps.clock ?? systemClock, this.#logger);
      await this.#ledger?.close();
      await Promise.all([...this.#created.map((provider) => provider.close?.()), this.#responses.close()]);
    })();
    return this.#closing;
  }

  /** One request about a stored response, in flight like any call: close() waits for it, and cuts it when the drain gives up. */
  async #stored<T>(options: StoredResponseOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const end = this.#inFlight.begin();
    const linked = this.#inFlight.link(options.signal);
    try {
      return await run(linked.signal);
    } finally {
      linked.dispose();
      end();
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new LlmClientClosedError();
  }

  #preparePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options: LlmCallOptions,
  ): PreparedCall {
    const messages = prompt.render(context);
    const base: Partial<ChatRequest> = {};
    if (prompt.temperature !== undefined) base.temperature = prompt.temperature;
    if (prompt.maxTokens !== undefined) base.maxTokens = prompt.maxTokens;
    if (prompt.responseFormat !== undefined) base.responseFormat = prompt.responseFormat;
    if (prompt.toolChoice !== undefined) base.toolChoice = prompt.toolChoice;
    const withPrompt: LlmCallOptions = { ...options };
    if (options.tools === undefined && prompt.tools !== undefined) withPrompt.tools = prompt.tools;
    if (options.maxSteps === undefined && prompt.maxSteps !== undefined) withPrompt.maxSteps = prompt.maxSteps;
    return this.#prepare(messages, base, withPrompt, prompt);
  }

  #prepare(
    messages: ChatMessage[],
    base: Partial<ChatRequest>,
    options: LlmCallOptions,
    prompt: Prompt<string, unknown, string> | undefined,
  ): PreparedCall {
    this.#assertOpen();
    const llm = this.#config.llm;
    const grouped = options.provider === undefined ? this.#groupTargets(options.model || base.model || '') : undefined;
    const providerName = grouped?.[0]?.provider ?? options.provider ?? llm.provider;
    const model = options.model || base.model || (grouped === undefined ? this.getProvider(providerName).defaultModel : '');
    const request: ChatRequest = { ...withoutUndefined(base), model, messages };
    if (options.temperature !== undefined) request.temperature = options.temperature;
    const maxTokens = options.maxTokens ?? base.maxTokens ?? llm.maxOutputTokens;
    if (maxTokens !== undefined) request.maxTokens = maxTokens;
    const tools = options.tools;
    if (tools !== undefined) request.tools = [...(request.tools ?? []), ...toFunctionTools(tools)];
    if (options.toolChoice !== undefined) request.toolChoice = options.toolChoice;
    validateRequest(request);
    const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    if (!Number.isInteger(maxSteps) || maxSteps < 1)
      throw new LlmRequestError([`maxSteps: must be a whole number of at least 1, not ${maxSteps}`]);
    const repairs = options.repairs ?? llm.structuredOutputRepairs;
    // NaN or Infinity would never run out: the call would ask for repairs without end.
    if (!Number.isInteger(repairs) || repairs < 0)
      throw new LlmRequestError([`repairs: must be a whole number of at least 0, not ${repairs}`]);
    // Tools that run have effects: a loop that runs them is never answered from the cache.
    const runsTools = hasExecutableTools(tools);
    const targets: CallTarget[] = grouped ?? [{ provider: providerName, model: request.model }];
    if (options.provider === undefined && grouped === undefined)
      targets.push(...this.#config.resilience.fallbacks.map((fallback) => ({ ...fallback })));
    const promptName = prompt?.name;
    const promptVersion = prompt?.version;
    const cacheMode = this.#deps.cache === undefined || runsTools ? 'bypass' : resolveCacheMode(options.cache, request.temperature);
    return {
      targets,
      request,
      schema: prompt?.schema,
      promptName,
      promptVersion,
      cacheMode,
      // Hashing the request is only worth it when the cache will be read or written.
      cacheKey:
        cacheMode === 'bypass'
          ? ''
          : cacheKey({
              ...request,
              provider: providerName,
              promptName,
              promptVersion,
              namespace: options.namespace ?? this.#config.cache.namespace,
            }),
      repairs,
      signal: options.signal,
      // Set when the call starts (its own, made from `signal` and the client's drain): see `signalOf`.
      cancellation: undefined,
      tools: runsTools ? tools : undefined,
      maxSteps,
      deadlineAt: runsTools ? (this.#deps.clock ?? systemClock).now() + this.#config.resilience.deadlineMs : undefined,
      attribution: options.attribution,
      onUsageRecord: options.onUsageRecord,
      turnGate: options.turnGate,
    };
  }

  /**
   * Runs the call's compute through the cache when the call may use it, watched by `compute`.
   * A compute the cache shares between concurrent callers of one key runs on the cache's own
   * cancellation (aborted only when every caller has left), not on the call's, while the call
   * waits for it under its own; everything it spends still goes to this call's trace.
   */
  #lookup(
    call: PreparedCall,
    trace: CallTrace,
    compute: ComputeWatch,
    run: (running: PreparedCall) => Promise<ChatCompletion>,
  ): Promise<{ completion: ChatCompletion; hit: boolean }> {
    const cache = this.#deps.cache;
    if (cache === undefined || call.cacheMode === 'bypass')
      return compute.run(() => run(call)).then((completion) => ({ completion, hit: false }));
    return cache.getOrCompute(
      call.cacheKey,
      (shared) => compute.run(() => this.#runShared(call, shared, run)).then((completion) => storable(call, trace, completion)),
      call.cacheMode,
      signalOf(call),
    );
  }

  /** Runs `run` on the shared compute's cancellation (and the client's drain) rather than the call's, when there is one. */
  async #runShared(
    call: PreparedCall,
    shared: AbortSignal | undefined,
    run: (running: PreparedCall) => Promise<ChatCompletion>,
  ): Promise<ChatCompletion> {
    if (shared === undefined) return run(call);
    const cancellation = this.#inFlight.link(shared);
    try {
      return await run({ ...call, signal: shared, cancellation });
    } finally {
      cancellation.dispose();
    }
  }

  async #execute<T>(prepared: PreparedCall): Promise<LlmResponse<T>> {
    const end = this.#inFlight.begin();
    const linked = this.#inFlight.link(prepared.signal);
    try {
      prepared.cancellation = linked;
      return await this.#executeCounted<T>(prepared);
    } finally {
      linked.dispose();
      end();
    }
  }

  async #executeCounted<T>(call: PreparedCall): Promise<LlmResponse<T>> {
    const started = performance.now();
    const startedAt = new Date((this.#deps.clock ?? systemClock).now());
    const trace = newTrace(call.targets[0]!.provider, call.request.model);
    const compute = new ComputeWatch();
    try {
      const { completion, hit } = await this.#lookup(call, trace, compute, (running) => this.#engine.answer(running, trace));
      const data = this.#data(call, completion);
      if (data === stale) return this.#execute<T>({ ...call, cacheMode: 'refresh' });
      const response = this.#response<T>(call, completion, hit, trace, data as T, performance.now() - started);
      this.#record(call, trace, hit, 'success', startedAt, started, 'chat', completion.content);
      return response;
    } catch (error) {
      const outcome = outcomeOf(error, call);
      this.#recordEnded(compute, trace, error, () => this.#record(call, trace, false, outcome, startedAt, started, 'chat'));
      throw error;
    }
  }

  /**
   * Records a call that ended without an answer: at once when the compute it started (if any) has
   * ended, else once it ends (the caller left a compute others still wait for), with everything it spent.
   * Until then the call counts as in flight, so `close()` waits for its row, and `flush()` does too.
   */
  #recordEnded(compute: ComputeWatch, trace: CallTrace, error: unknown, record: () => void): void {
    if (!compute.running) {
      addFailedAttempts(trace, compute.failure?.error ?? error);
      record();
      return;
    }
    const end = this.#inFlight.begin();
    const row: Promise<void> = compute
      .ended()
      .then(() => {
        addFailedAttempts(trace, compute.failure?.error ?? error);
        record();
      })
      .catch((failure: unknown) => this.#logger.error({ err: failure }, 'Could not record an LLM call'))
      .finally(() => {
        this.#pendingRows.delete(row);
        end();
      });
    this.#pendingRows.add(row);
  }

  /**
   * The body of a stream runs from its first read: a stream made before `close()` and read after it
   * is refused then, as a call made after `close()` is. A refresh of a stream already running is not:
   * it takes over that stream's place among the calls in flight (`handedOver` ends it once the
   * refresh is counted), so `close()` waits for the refresh as it did for the stream.
   */
  async *#stream<T>(prepared: PreparedCall, handedOver?: () => void): AsyncGenerator<LlmStreamEvent<T>, void, undefined> {
    if (handedOver === undefined) this.#assertOpen();
    const started = performance.now();
    const startedAt = new Date((this.#deps.clock ?? systemClock).now());
    const trace = newTrace(prepared.targets[0]!.provider, prepared.request.model);
    const end = this.#inFlight.begin();
    handedOver?.();
    // Abandoning the stream aborts the call: stages that read its signal must hear it.
    const linked = this.#inFlight.linkAbortable(prepared.signal);
    const call = prepared;
    call.cancellation = linked;
    const queue = new AsyncQueue<EngineStreamEvent>();
    // Once the reader has gone, a compute that runs on for others (a shared flight) delivers to nobody.
    let reading = true;
    const compute = new ComputeWatch();
    const lookup = this.#lookup(call, trace, compute, (running) =>
      this.#engine.stream(running, trace, (event) => {
        if (reading) queue.push(event);
      }),
    );
    lookup.then(
      () => queue.close(),
      (error: unknown) => queue.fail(error),
    );
    let outcome: string | undefined;
    let refresh = false;
    try {
      for await (const event of queue) yield event;
      const { completion, hit } = await lookup;
      const data = this.#data(call, completion);
      // As `executePrompt` does: a cached answer that no longer validates is not sent; a fresh one replaces it (below).
      refresh = data === stale && hit;
      if (refresh) outcome = 'refreshed';
      else {
        if (hit) {
          const start: LlmStreamStart = {
            type: 'start',
            provider: completion.provider,
            model: completion.model,
            attempts: 0,
            cached: true,
          };
          if (completion.id !== undefined) start.id = completion.id;
          if (completion.created !== undefined) start.created = completion.created;
          yield start;
          for await (const event of replayAsStream(completion)) if (event.type !== 'done' && event.type !== 'start') yield event;
        }
        if (data === stale)
          throw new GroundworkError('llm_cache_stale', 'A cached answer no longer matches the prompt’s schema; bump the prompt version.');
        const response = this.#response<T>(call, completion, hit, trace, data as T, performance.now() - started);
        outcome = 'success';
        this.#record(call, trace, hit, outcome, startedAt, started, 'stream', completion.content);
        yield { type: 'done', response };
      }
    } catch (error) {
      outcome = outcomeOf(error, call);
      const failed = outcome;
      this.#recordEnded(compute, trace, error, () => this.#record(call, trace, false, failed, startedAt, started, 'stream'));
      throw error;
    } finally {
      reading = false;
      if (outcome === undefined) {
        // Abandoned by its reader: the call is cut, and its row waits for the cut to settle, when
        // the engine has added what the cut stream spent (the prompt and the text delivered).
        linked.abort(new DOMException('The stream was abandoned by its reader', 'AbortError'));
        lookup.catch(() => {});
        this.#recordEnded(compute, trace, undefined, () => this.#record(call, trace, false, 'cancelled', startedAt, started, 'stream'));
      }
      linked.dispose();
      // A refresh ends this call's count only once its own has begun: were the count to reach 0
      // in between, close() would stop waiting and shut the ledger before the refresh is recorded.
      if (!refresh) end();
    }
    // The refreshed call is a call of its own, counted and recorded as such.
    if (refresh) yield* this.#stream<T>({ ...prepared, cacheMode: 'refresh', cancellation: undefined }, end);
  }

  /** The validated structured data, undefined without a schema, or `stale` for a cached answer that no longer validates. */
  #data(call: PreparedCall, completion: ChatCompletion): unknown {
    if (call.schema === undefined) return undefined;
    const result = parseStructured(completion.content, call.schema);
    return result.ok ? result.data : stale;
  }

  #response<T>(call: PreparedCall, completion: ChatCompletion, hit: boolean, trace: CallTrace, data: T, latencyMs: number): LlmResponse<T> {
    if (hit) {
      trace.provider = completion.provider;
      trace.model = completion.model;
      trace.requestId = completion.requestId;
    }
    // A cached answer keeps the usage it was produced with, and costs nothing now.
    const usage = hit ? { ...completion.usage } : { ...trace.usage };
    const metadata: LlmResponseMetadata = {
      provider: completion.provider,
      model: completion.model,
      promptName: call.promptName,
      promptVersion: call.promptVersion,
      requestId: completion.requestId,
      attempts: trace.attempts,
      latencyMs: Math.round(latencyMs),
      finishReason: completion.finishReason,
      cached: hit,
      steps: hit ? 1 : Math.max(1, trace.steps.length),
    };
    if (!hit && trace.deployment !== undefined) metadata.deployment = trace.deployment;
    if (completion.id !== undefined) metadata.responseId = completion.id;
    if (completion.created !== undefined) metadata.created = completion.created;
    if (completion.systemFingerprint !== undefined) metadata.systemFingerprint = completion.systemFingerprint;
    if (completion.serviceTier !== undefined) metadata.serviceTier = completion.serviceTier;
    if (completion.rateLimitHeaders !== undefined) metadata.rateLimitHeaders = completion.rateLimitHeaders;
    const response: LlmResponse<T> = {
      content: completion.content,
      data,
      choices: completion.choices,
      metadata,
      usage: { ...usage, costUsd: hit ? 0 : trace.costUsd },
    };
    if (completion.toolCalls !== undefined) response.toolCalls = completion.toolCalls;
    if (completion.refusal !== undefined) response.refusal = completion.refusal;
    return response;
  }

  #record(
    call: PreparedCall,
    trace: CallTrace,
    hit: boolean,
    outcome: string,
    startedAt: Date,
    started: number,
    operation: 'chat' | 'stream',
    answer: string | null = null,
  ): void {
    this.#recorder.record({
      // Prompt and answer text reach the ledger only when LLM_LOG_CONTENT=true.
      content: this.#config.llm.logContent ? { prompt: JSON.stringify(call.request.messages), answer } : undefined,
      trace,
      operation,
      promptName: call.promptName,
      promptVersion: call.promptVersion,
      startedAt,
      latencyMs: performance.now() - started,
      outcome,
      cacheHit: hit,
      attribution: call.attribution,
      onUsageRecord: call.onUsageRecord,
    });
  }
}

const stale = Symbol('stale cache entry');

/** Model turns a tool loop may take when neither the call nor the prompt says. */
const DEFAULT_MAX_STEPS = 5;

/**
 * The answer as the response cache may keep it: a fallback's answer (another provider or model
 * than the primary, or another model group than the one asked for) is handed back uncached, since
 * the key names the primary, which would otherwise be skipped for as long as the answer lives.
 */
function storable(call: PreparedCall, trace: CallTrace, completion: ChatCompletion): ChatCompletion {
  const primary = call.targets[0];
  const answered = trace.answeredBy;
  if (primary === undefined || answered === undefined) return completion;
  const same =
    primary.group === undefined
      ? answered.group === undefined && answered.provider === primary.provider && answered.model === primary.model
      : answered.group === primary.group;
  if (same) return completion;
  return uncachedAnswer(completion, `answered by a fallback, ${answered.provider}/${answered.deployment ?? answered.model}`);
}

/** A call its caller cut (a disconnect, a shutdown, an abort) is `cancelled`, whatever the error it ended with. */
function outcomeOf(error: unknown, call: CallCancellation): string {
  if (callAborted(call)) return 'cancelled';
  if (GroundworkError.isInstance(error)) return error.code;
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return 'error';
}

function withoutUndefined<T extends object>(value: T): T {
  const copy: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) copy[key] = value[key];
  return copy as T;
}
