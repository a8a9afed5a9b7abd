import { type EmbeddingCache, embeddingCacheKey } from '../../cache/embedding-cache.js';
import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';
import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { traceEmbeddings } from '../../observability/trace-embeddings.js';
import { approximateTokens } from '../../resilience/approximate-tokens.js';
import { countTokens } from '../../resilience/estimate-tokens.js';
import { attemptsOf, type CallPipeline, type CallTarget, rememberAttempts } from '../call-pipeline.js';
import { type CallTrace, newTrace } from '../call-trace.js';
import type { PriceBook } from '../pricing.js';
import { LlmNotConfiguredError } from '../providers/provider-settings.js';
import type { LlmProvider } from '../types.js';
import { UnsupportedFieldsError } from '../unsupported-fields-error.js';
import { embedInputs } from './embed-inputs.js';
import type { EmbedOptions, VectorFormat } from './embed-options.js';
import type { EmbedResult, VectorOf } from './embed-result.js';
import { type EmbeddingBatch, type EmbeddingBatchLimits, OPENAI_EMBEDDING_LIMITS, splitIntoBatches } from './embedding-batches.js';
import { EmbeddingDimensionsMismatchError } from './embedding-dimensions-mismatch-error.js';
import { embeddingModelKey, providerEmbeds, providerTakesTokens, providerTakesUser, targetsByModel } from './embedding-models.js';
import type { EmbeddingInput } from './embedding-request.js';
import type { EmbeddingResponse } from './embedding-response.js';
import { attachEmbeddingSpend, embeddingSpendOf } from './embedding-spend.js';
import { EmbeddingsUnsupportedError } from './embeddings-unsupported-error.js';
import { FixedEmbeddingLengthError } from './fixed-embedding-length-error.js';
import { embeddingDimensions, knownEmbeddingModel } from './known-embedding-models.js';
import { runBounded } from './run-bounded.js';

/** What the embedding engine runs on: the chat path's pipeline, prices and providers. */
export interface EmbeddingEngineDeps {
  config: AppConfig;
  pipeline: CallPipeline;
  prices: PriceBook;
  provider(name: LlmProviderName): LlmProvider;
  cache?: EmbeddingCache | undefined;
  /** The targets of a call for `model` when it names a model group: its deployments, then its fallback groups'. @default none */
  groupTargets?: ((model: string) => CallTarget[] | undefined) | undefined;
  /** The adapter of a deployment of a model group (its own credentials and endpoint). @default the provider's */
  deploymentProvider?: ((target: CallTarget) => LlmProvider) | undefined;
  /** Where a `user` dropped for a provider without it, and usage a provider did not report, are told. @default silent */
  logger?: Logger | undefined;
  /** Counts a dropped `user` (`groundwork_llm_dropped_params_total`) and estimated usage (`groundwork_llm_estimated_usage_total`). */
  metrics?: GroundworkMetrics | undefined;
}

/** An `embed` call resolved against the configuration. */
interface EmbedPlan {
  inputs: EmbeddingInput[];
  targets: CallTarget[];
  /** Dimensions asked for, as the cache keys them. */
  dimensions: number | undefined;
  useCache: boolean;
  readCache: boolean;
  /** The cache namespace the call's vectors are kept under, when not the instance's own. */
  namespace: string | undefined;
  /** Providers this call has already dropped `user` for, each logged and counted once. */
  droppedUser?: Set<string>;
  /** Whether a provider reported no usage for some batch, so that the call's usage is partly estimated. */
  estimatedUsage?: true;
}

/**
 * Embeds inputs through the resilience pipeline: the per-input cache first, then the misses in
 * batches within the provider's per-request limits (2048 inputs, 300 000 tokens), at most
 * `LLM_EMBEDDING_BATCH_CONCURRENCY` at once, each batch its own pipeline run (limits with its
 * counted tokens reserved, retry with deadline, breaker, fallbacks). The first batch that fails
 * after its retries and fallbacks fails the whole call and cancels the batches in flight; the
 * batches answered before it are in the cache, so calling again pays only for the rest.
 */
export class EmbeddingEngine {
  readonly #deps: EmbeddingEngineDeps;
  /** The `provider/model`s whose estimated usage was logged: once each, not on every call. */
  readonly #estimatedLogged = new Set<string>();

  constructor(deps: EmbeddingEngineDeps) {
    this.#deps = deps;
  }

  /** The trace a call starts with, for its recording even when it fails. */
  startTrace(options: EmbedOptions<VectorFormat>): CallTrace {
    const provider = options.provider ?? this.#deps.config.llm.embeddings.provider;
    const model = options.model ?? this.#configuredModel(provider) ?? '';
    const first = options.provider === undefined ? this.#deps.groupTargets?.(model)?.[0] : undefined;
    return newTrace(first?.provider ?? provider, model);
  }

  /**
   * Embeds `input`, adding what it spends to `trace`. When it fails, the error it throws carries
   * what the batches answered before the failure cost ({@link embeddingSpendOf}).
   */
  async embed<F extends VectorFormat>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options: EmbedOptions<F>,
    trace: CallTrace,
  ): Promise<EmbedResult<F>> {
    try {
      return await this.#embed(input, options, trace);
    } catch (error) {
      // The batches in flight have settled (runBounded waits for them): the trace holds the whole spend.
      attachEmbeddingSpend(error, { costUsd: trace.costUsd, totalTokens: trace.usage.totalTokens });
      // The failed batch's attempts join the answered batches' (the trace takes only answered ones), so
      // the ledger row and the error (`x-groundwork-attempts`) count every request the call sent.
      const failed = attemptsOf(error);
      if (trace.attempts.length > 0 && failed !== undefined) {
        trace.attempts.push(...failed);
        rememberAttempts(error, [...trace.attempts]);
      }
      throw error;
    }
  }

  async #embed<F extends VectorFormat>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options: EmbedOptions<F>,
    trace: CallTrace,
  ): Promise<EmbedResult<F>> {
    const started = performance.now();
    const plan = this.#plan(input, options);
    refuseFixedLength(plan.targets, plan.dimensions, options.dimensions === undefined);
    refuseTokenArrays(plan.targets, plan.inputs);
    const byModel = targetsByModel(plan.targets);
    const { count, limits } = this.#tokenCounting(plan.targets[0]!.model);
    // One call's vectors come from one model. With one model among the targets, or when the first
    // one's cached vectors answer every input, that is the model; otherwise the first batch (of the
    // inputs the first model has no vector of) goes alone over every target, and the model that
    // answers it takes the call's other batches, its own cached vectors filling in the rest. So
    // the cache is read for the first model, and for another only once it has answered.
    const preferred = [...byModel.keys()][0]!;
    const preferredCached = await this.#readCache(plan, byModel, preferred);
    const covered = plan.inputs.length > 0 && preferredCached?.every(Boolean) === true;
    let model = byModel.size === 1 || covered ? preferred : undefined;
    let answered: Map<number, Float32Array> | undefined;
    let batchCount = 0;
    if (model === undefined) {
      const first = this.#pending(plan, preferredCached ?? [], count, limits).batches[0]!;
      await runBounded([first], 1, options.signal, async (batch, signal) => {
        const { answer, target } = await this.#runBatch(plan, plan.targets, batch, signal, trace, options.user);
        model = embeddingModelKey(target);
        answered = new Map(batch.indexes.map((index, position) => [index, answer.vectors[position]!]));
      });
      batchCount++;
    }
    const chosen = model as string;
    // Read before the first batch's vectors are written: a repeated input it answered is no hit.
    const chosenCached = chosen === preferred ? preferredCached : await this.#readCache(plan, byModel, chosen);
    if (answered !== undefined) await this.#writeCache(plan, chosen, answered);
    const pending = this.#pending(plan, chosenCached ?? [], count, limits, answered);
    const { vectors, batches } = pending;
    const targets = byModel.get(chosen) ?? plan.targets;
    let dimensions = embeddingDimensions(targets[0]!.model, plan.dimensions) ?? vectors.find((vector) => vector !== undefined)?.length;
    // The call's own `dimensions` the model did not return is the caller's to change; any other mismatch is the upstream's.
    const mismatch = (provider: string, model: string, expected: number, got: number) =>
      new EmbeddingDimensionsMismatchError({ provider, model, expected, got, askedByCall: options.dimensions === expected });
    for (const vector of answered?.values() ?? []) {
      if (vector.length !== dimensions) throw mismatch(trace.provider, trace.model, dimensions ?? 0, vector.length);
    }
    await runBounded(batches, this.#deps.config.llm.embeddings.batchConcurrency, options.signal, async (batch, signal) => {
      const { answer, target } = await this.#runBatch(plan, targets, batch, signal, trace, options.user);
      const vectorsOf = new Map<number, Float32Array>();
      for (const [position, index] of batch.indexes.entries()) {
        const vector = answer.vectors[position]!;
        dimensions ??= vector.length;
        if (vector.length !== dimensions) throw mismatch(answer.provider, answer.model, dimensions, vector.length);
        vectors[index] = vector;
        vectorsOf.set(index, vector);
      }
      await this.#writeCache(plan, embeddingModelKey(target), vectorsOf);
    });
    for (const [index, first] of pending.copies) vectors[index] = vectors[first]?.slice();
    const format = options.format ?? 'float32';
    const out = (vectors as Float32Array[]).map((vector) => (format === 'number' ? Array.from(vector) : vector)) as VectorOf<F>[];
    return {
      vectors: out,
      dimensions: dimensions ?? 0,
      provider: trace.provider,
      model: trace.model,
      usage: {
        promptTokens: trace.usage.promptTokens,
        totalTokens: trace.usage.totalTokens,
        ...(plan.estimatedUsage === undefined ? {} : { estimated: true }),
      },
      costUsd: trace.costUsd,
      metadata: {
        cachedInputs: pending.cachedInputs,
        batches: batchCount + batches.length,
        attempts: trace.attempts,
        latencyMs: performance.now() - started,
      },
    };
  }

  /**
   * The cached vectors of the call's inputs under `model` (a key of `byModel`), those of another
   * length than the model's known one left out; undefined when the cache is not read.
   */
  async #readCache(
    plan: EmbedPlan,
    byModel: ReadonlyMap<string, CallTarget[]>,
    model: string,
  ): Promise<Array<Float32Array | undefined> | undefined> {
    const cache = this.#deps.cache;
    const target = byModel.get(model)?.[0];
    if (!plan.readCache || cache === undefined || target === undefined) return undefined;
    const expected = embeddingDimensions(target.model, plan.dimensions);
    const vectors = await cache.getMany(plan.inputs.map((item) => embeddingCacheKey(model, plan.dimensions, item, plan.namespace)));
    return vectors.map((vector) => (vector !== undefined && (expected === undefined || vector.length === expected) ? vector : undefined));
  }

  async #writeCache(plan: EmbedPlan, model: string, vectors: ReadonlyMap<number, Float32Array>): Promise<void> {
    if (!plan.useCache || this.#deps.cache === undefined) return;
    await this.#deps.cache.setMany(
      [...vectors].map(
        ([index, vector]) => [embeddingCacheKey(model, plan.dimensions, plan.inputs[index]!, plan.namespace), vector] as const,
      ),
    );
  }

  /**
   * What is left to send once `cached` (one model's cached vectors) and `answered` (vectors that
   * model already gave in this call) are taken: the batches of the other inputs, an input repeated
   * in the call sent once and its copies filled in at the end.
   */
  #pending(
    plan: EmbedPlan,
    cached: ReadonlyArray<Float32Array | undefined>,
    count: (text: string) => number,
    limits: EmbeddingBatchLimits,
    answered?: ReadonlyMap<number, Float32Array>,
  ) {
    const vectors = new Array<Float32Array | undefined>(plan.inputs.length);
    let cachedInputs = 0;
    for (const [index, vector] of cached.entries()) {
      if (vector === undefined || answered?.has(index) === true) continue;
      vectors[index] = vector;
      cachedInputs++;
    }
    for (const [index, vector] of answered ?? []) vectors[index] = vector;
    const firstOf = new Map<string, number>();
    const copies: Array<[index: number, first: number]> = [];
    const missing: number[] = [];
    for (const [index, item] of plan.inputs.entries()) {
      const identity = typeof item === 'string' ? `s${item}` : `t${item.join(',')}`;
      const first = firstOf.get(identity);
      if (vectors[index] !== undefined) {
        if (first === undefined) firstOf.set(identity, index);
      } else if (first === undefined) {
        firstOf.set(identity, index);
        missing.push(index);
      } else copies.push([index, first]);
    }
    const tokens = plan.inputs.map((item, index) =>
      vectors[index] !== undefined ? 0 : typeof item === 'string' ? count(item) : item.length,
    );
    return { vectors, copies, cachedInputs, batches: splitIntoBatches(missing, tokens, limits) };
  }

  #plan<F extends VectorFormat>(input: EmbeddingInput | readonly EmbeddingInput[], options: EmbedOptions<F>): EmbedPlan {
    const settings = this.#deps.config.llm.embeddings;
    const inputs = embedInputs(input);
    const providerName = options.provider ?? settings.provider;
    const dimensions = options.dimensions ?? settings.dimensions;
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1)) {
      throw new GroundworkError(
        'llm_invalid_request',
        `Invalid LLM request: dimensions must be a whole number of at least 1, not ${dimensions}.`,
      );
    }
    const requested = options.model ?? this.#configuredModel(providerName);
    const grouped = options.provider === undefined && requested !== undefined ? this.#deps.groupTargets?.(requested) : undefined;
    if (grouped !== undefined && requested !== undefined)
      return this.#groupPlan(requested, grouped, inputs, dimensions, options.cache, options.namespace);
    const provider = this.#deps.provider(providerName);
    if (provider.embed === undefined) throw new EmbeddingsUnsupportedError(providerName);
    const model = requested;
    if (model === undefined) throw new LlmNotConfiguredError(providerName, ['AZURE_OPENAI_EMBEDDING_DEPLOYMENT']);
    const targets: CallTarget[] = [{ provider: providerName, model }];
    // The configuration checked the fallbacks against the configured model and length only.
    const configured = options.provider === undefined && options.model === undefined && dimensions === settings.dimensions;
    if (configured) targets.push(...settings.fallbacks.map((fallback) => ({ ...fallback })));
    const cacheOption = options.cache;
    const useCache = this.#deps.cache !== undefined && cacheOption !== false;
    return {
      inputs,
      targets,
      dimensions,
      useCache,
      readCache: useCache && cacheOption !== 'refresh',
      namespace: options.namespace,
    };
  }

  /**
   * A call for a model group: routed over its deployments (and its fallback groups') whose provider
   * has an embeddings API, the others skipped; refused when none has one. Whether a provider has
   * one is told from its type: adapters are made at each attempt, so a deployment that cannot be
   * made fails only the attempts sent to it.
   */
  #groupPlan(
    group: string,
    grouped: CallTarget[],
    inputs: EmbeddingInput[],
    dimensions: number | undefined,
    cacheOption: EmbedOptions<VectorFormat>['cache'],
    namespace: string | undefined,
  ): EmbedPlan {
    const targets = grouped.filter((target) => providerEmbeds(target.provider));
    if (targets.length === 0) {
      throw new EmbeddingsUnsupportedError(grouped[0]!.provider, {
        group,
        providers: [...new Set(grouped.map((target) => target.provider))],
      });
    }
    const useCache = this.#deps.cache !== undefined && cacheOption !== false;
    return { inputs, targets, dimensions, useCache, readCache: useCache && cacheOption !== 'refresh', namespace };
  }

  /** The adapter of a target: a deployment's own when it is one of a model group, else its provider's. */
  #adapter(target: CallTarget): LlmProvider {
    if (target.deployment !== undefined && this.#deps.deploymentProvider !== undefined) return this.#deps.deploymentProvider(target);
    return this.#deps.provider(target.provider);
  }

  /**
   * How inputs' tokens are counted. Under a tokens-per-minute limit, exactly, with the model's
   * tokenizer, so the reservation is right before the call; otherwise a cheap estimate (the
   * tokenizer costs more than the rest of the call path per text), against a request bound
   * lowered by the estimate's worst error.
   */
  #tokenCounting(model: string): { count: (text: string) => number; limits: EmbeddingBatchLimits } {
    if (this.#deps.config.resilience.tokensPerMinute !== undefined) {
      return { count: (text) => countTokens(text, model), limits: OPENAI_EMBEDDING_LIMITS };
    }
    const maxTokens = Math.floor(OPENAI_EMBEDDING_LIMITS.maxTokens * ESTIMATE_MARGIN);
    return { count: (text) => Math.ceil(approximateTokens(text)), limits: { ...OPENAI_EMBEDDING_LIMITS, maxTokens } };
  }

  #configuredModel(provider: LlmProviderName): string | undefined {
    const settings = this.#deps.config.llm.embeddings;
    return provider === 'azure' ? settings.azureDeployment : settings.model;
  }

  /**
   * A `user` the provider has no counterpart for: refused with {@link UnsupportedFieldsError} before
   * the request is sent, as chat refuses it, or, under `LLM_DROP_UNSUPPORTED_PARAMS=true`, dropped,
   * logged and counted once per provider in the call.
   */
  #dropUser(plan: EmbedPlan, provider: LlmProviderName): undefined {
    if (!this.#deps.config.llm.dropUnsupportedParams) throw new UnsupportedFieldsError(provider, ['user'], true);
    plan.droppedUser ??= new Set();
    if (!plan.droppedUser.has(provider)) {
      plan.droppedUser.add(provider);
      this.#deps.metrics?.droppedParams.inc({ provider, field: 'user' });
      this.#deps.logger?.warn(
        { provider, fields: ['user'] },
        `Dropped user: the provider "${provider}" cannot honour it (LLM_DROP_UNSUPPORTED_PARAMS=true)`,
      );
    }
    return undefined;
  }

  /**
   * An answer whose provider reported no token usage, its tokens estimated by the adapter: counted,
   * logged once per provider and model (a server that never reports usage would otherwise log every
   * call), and marked on the call's usage.
   */
  #estimated(plan: EmbedPlan, answer: EmbeddingResponse): void {
    plan.estimatedUsage = true;
    this.#deps.metrics?.estimatedUsage.inc({ provider: answer.provider, operation: 'embeddings' });
    const key = `${answer.provider}/${answer.model}`;
    if (this.#estimatedLogged.has(key)) return;
    this.#estimatedLogged.add(key);
    this.#deps.logger?.warn(
      { provider: answer.provider, model: answer.model },
      `The provider "${answer.provider}" reported no token usage for embeddings of ${answer.model}: their tokens and cost are estimated (counted in groundwork_llm_estimated_usage_total)`,
    );
  }

  /** One batch through the pipeline: its counted tokens reserved, reconciled to the reported usage. */
  async #runBatch(
    plan: EmbedPlan,
    targets: CallTarget[],
    batch: EmbeddingBatch,
    signal: AbortSignal,
    trace: CallTrace,
    user: string | undefined,
  ): Promise<{ answer: EmbeddingResponse; target: CallTarget }> {
    const inputs = batch.indexes.map((index) => plan.inputs[index]!);
    const outcome = await this.#deps.pipeline.execute<EmbeddingResponse>(
      { targets, estimatedTokens: batch.tokens, signal },
      async ({ target, signal: attemptSignal }) => {
        const dimensions = sendsDimensions(target.model, plan.dimensions) ? plan.dimensions : undefined;
        const sentUser = user === undefined || providerTakesUser(target.provider) ? user : this.#dropUser(plan, target.provider);
        const request = {
          model: target.model,
          inputs,
          ...(dimensions === undefined ? {} : { dimensions }),
          ...(sentUser === undefined ? {} : { user: sentUser }),
        };
        const provider = this.#adapter(target);
        if (provider.embed === undefined) throw new EmbeddingsUnsupportedError(target.provider);
        const embed = provider.embed;
        const answer = await traceEmbeddings({ provider: target.provider, model: target.model, inputs: inputs.length, dimensions }, () =>
          embed(request, attemptSignal),
        );
        return {
          value: answer,
          usage: { promptTokens: answer.usage.promptTokens, completionTokens: 0, totalTokens: answer.usage.totalTokens },
        };
      },
    );
    trace.attempts.push(...outcome.attempts);
    const answer = outcome.value;
    const prices = this.#deps.prices;
    const priced = prices.pricedModel(answer.model, outcome.target.model);
    const usage = { promptTokens: answer.usage.promptTokens, completionTokens: 0, totalTokens: answer.usage.totalTokens };
    trace.usage.promptTokens += usage.promptTokens;
    trace.usage.totalTokens += usage.totalTokens;
    trace.costUsd += prices.cost(priced, usage);
    if (answer.usage.estimated === true) this.#estimated(plan, answer);
    trace.provider = answer.provider;
    trace.model = answer.model;
    trace.deployment = outcome.target.deployment;
    trace.requestId = answer.requestId;
    return { answer, target: outcome.target };
  }
}

/** The estimate is 0.76–1.08 of the tokenizer's count: a batch of estimated tokens stays within the bound at 3/4 of it. */
const ESTIMATE_MARGIN = 0.75;

/**
 * Whether to send `dimensions` to `model`: not to a model known to have one fixed length (it
 * would refuse the field, even asked its own length; {@link refuseFixedLength} let only that through).
 */
function sendsDimensions(model: string, dimensions: number | undefined): boolean {
  if (dimensions === undefined) return false;
  const known = knownEmbeddingModel(model);
  return known === undefined || known.shortens;
}

/**
 * Refuses, before any request, a token array when no target takes one (Gemini, Bedrock: text
 * only), naming its place in the call: refused by the adapter instead, it would be named by its
 * place in its batch, after the call's other batches had been sent and billed.
 */
function refuseTokenArrays(targets: readonly CallTarget[], inputs: readonly EmbeddingInput[]): void {
  if (targets.some((target) => providerTakesTokens(target.provider))) return;
  const index = inputs.findIndex((input) => typeof input !== 'string');
  if (index === -1) return;
  throw new GroundworkError(
    'llm_invalid_request',
    `Invalid LLM request: input[${index}] is a token array, which the provider "${targets[0]!.provider}" cannot embed; send text.`,
  );
}

/**
 * Refuses, before any request, a length that a known target cannot return: another than its own
 * for a model of one fixed length (OpenAI refuses `dimensions` for such models, and answering
 * full-length vectors instead would hand back another length than asked; its own length passes,
 * and is not sent), and more than its own for a model that shortens (it would answer its full
 * length, shorter than asked, or be refused by its provider after the call was admitted).
 */
function refuseFixedLength(targets: readonly CallTarget[], dimensions: number | undefined, fromSettings: boolean): void {
  if (dimensions === undefined) return;
  for (const target of targets) {
    const known = knownEmbeddingModel(target.model);
    if (known === undefined) continue;
    if (known.shortens ? dimensions > known.dimensions : known.dimensions !== dimensions) {
      throw new FixedEmbeddingLengthError(target.model, known.dimensions, dimensions, fromSettings, known.shortens);
    }
  }
}
