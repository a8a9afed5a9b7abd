import { setTimeout as delay } from 'node:timers/promises';
import type { CacheOption } from '../cache/resolve-cache-mode.js';
import { type CompletionBase, completionOf } from '../llm/model/completion-of.js';
import type { ChatCompletion, ChatRequest, TokenUsage } from '../llm/types.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import type { HealthReport } from '../observability/health.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import type {
  CompleteOptions,
  ReadinessReport,
  ServiceBackend,
  ServiceCompletion,
  ServiceModel,
  ServiceStreamEvent,
  StreamOptions,
} from './service-backend.js';

/** How the test backend answers one call. */
export interface ScriptedAnswer {
  /** @default 'Hello from the test backend.' */
  content?: string;
  /** Wait this long first (aborts with the signal). */
  delayMs?: number;
  /** Never answer; end only when the signal aborts. */
  hang?: boolean;
  /** Throw this instead of answering (streams: before the first event, or after `failAfterDeltas`). */
  error?: unknown;
  /** Streams: fail with `error` after this many deltas. */
  failAfterDeltas?: number;
  cached?: boolean;
  usage?: Partial<TokenUsage>;
  /** Streams: number of deltas. @default 3 */
  chunks?: number;
  /** Provider requests the answer took, or the failure made. @default 1 (0 when cached) */
  attempts?: number;
  /** Replaces parts of the scripted completion (choices, id, fingerprint, rate-limit headers…). */
  completion?: Partial<CompletionBase>;
  /** Streams: yield these events, then `done`, instead of the content split in `chunks` deltas. */
  events?: ServiceStreamEvent[];
}

/** One call the test backend received. */
export interface ReceivedCall {
  kind: 'complete' | 'stream';
  request: ChatRequest;
  cache: CacheOption | undefined;
  requestId: string | undefined;
  signal: AbortSignal;
  attribution?: UsageAttribution | undefined;
  cacheScope?: string | undefined;
}

/**
 * A {@link ServiceBackend} double: answers are scripted per call (a queue, then a default), every
 * call is recorded with its signal, readiness and health are switchable, and `close()` is counted.
 */
export class TestServiceBackend implements ServiceBackend {
  readonly metrics: GroundworkMetrics;
  readonly calls: ReceivedCall[] = [];
  readonly #queue: ScriptedAnswer[] = [];
  readonly #errorAttempts = new WeakMap<object, number>();
  databaseUp = true;
  migrationsApplied = true;
  migrateCalls = 0;
  closeCalls = 0;
  models: ServiceModel[] = [{ id: 'gpt-4o-mini', ownedBy: 'openai' }];

  constructor(options: { metrics?: GroundworkMetrics } = {}) {
    this.metrics = options.metrics ?? new GroundworkMetrics({ processMetrics: true });
  }

  /** Scripts the next calls, one answer each. */
  enqueue(...answers: ScriptedAnswer[]): this {
    this.#queue.push(...answers);
    return this;
  }

  async health(): Promise<HealthReport> {
    return {
      status: this.databaseUp ? 'ok' : 'down',
      checkedAt: new Date().toISOString(),
      dependencies: [{ name: 'database', status: this.databaseUp ? 'ok' : 'down', latencyMs: 1, required: true }],
    };
  }

  async readiness(): Promise<ReadinessReport> {
    const checks = [
      { name: 'config', ok: true },
      this.databaseUp ? { name: 'database', ok: true } : { name: 'database', ok: false, detail: 'connection refused' },
      { name: 'migrations', ok: this.migrationsApplied },
    ];
    return { ready: checks.every((check) => check.ok), checks };
  }

  async complete(request: ChatRequest, options: CompleteOptions): Promise<ServiceCompletion> {
    this.calls.push({
      kind: 'complete',
      request,
      cache: options.cache,
      requestId: options.requestId,
      signal: options.signal,
      attribution: options.attribution,
      cacheScope: options.cacheScope,
    });
    const answer = this.#next();
    await wait(answer, options.signal);
    if (answer.error !== undefined) throw this.#failure(answer);
    const cached = answer.cached ?? false;
    return { completion: scriptedCompletion(request, answer), cached, attempts: answer.attempts ?? (cached ? 0 : 1) };
  }

  async *stream(request: ChatRequest, options: StreamOptions): AsyncIterable<ServiceStreamEvent> {
    this.calls.push({
      kind: 'stream',
      request,
      cache: options.cache,
      requestId: options.requestId,
      signal: options.signal,
      attribution: options.attribution,
      cacheScope: options.cacheScope,
    });
    const answer = this.#next();
    await wait(answer, options.signal);
    if (answer.error !== undefined && answer.failAfterDeltas === undefined) throw this.#failure(answer);
    const completion = scriptedCompletion(request, answer);
    if (answer.events !== undefined) {
      for (const event of answer.events) yield event;
      yield { type: 'done', completion };
      return;
    }
    const pieces = split(completion.content, answer.chunks ?? 3);
    for (const [index, text] of pieces.entries()) {
      if (answer.failAfterDeltas === index) throw answer.error;
      options.signal.throwIfAborted();
      yield { type: 'delta', text };
      await delay(1);
    }
    yield { type: 'done', completion };
  }

  attemptsOf(error: unknown): number | undefined {
    return typeof error === 'object' && error !== null ? this.#errorAttempts.get(error) : undefined;
  }

  async listModels(): Promise<ServiceModel[]> {
    return this.models;
  }

  async migrate(): Promise<void> {
    this.migrateCalls++;
    this.migrationsApplied = true;
  }

  async close(): Promise<void> {
    this.closeCalls++;
  }

  #failure(answer: ScriptedAnswer): unknown {
    const error = answer.error;
    if (answer.attempts !== undefined && typeof error === 'object' && error !== null) this.#errorAttempts.set(error, answer.attempts);
    return error;
  }

  #next(): ScriptedAnswer {
    return this.#queue.shift() ?? {};
  }
}

async function wait(answer: ScriptedAnswer, signal: AbortSignal): Promise<void> {
  if (answer.hang === true) {
    await new Promise<never>((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
  if (answer.delayMs !== undefined) await delay(answer.delayMs, undefined, { signal });
}

function scriptedCompletion(request: ChatRequest, answer: ScriptedAnswer): ChatCompletion {
  const content = answer.content ?? 'Hello from the test backend.';
  const promptTokens = answer.usage?.promptTokens ?? 11;
  const completionTokens = answer.usage?.completionTokens ?? 7;
  return completionOf({
    provider: 'openai',
    model: request.model,
    choices: [{ index: 0, message: { content }, finishReason: 'stop' }],
    usage: {
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      ...(answer.usage?.cachedPromptTokens === undefined ? {} : { cachedPromptTokens: answer.usage.cachedPromptTokens }),
    },
    ...answer.completion,
  });
}

function split(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += size) pieces.push(text.slice(index, index + size));
  return pieces;
}
