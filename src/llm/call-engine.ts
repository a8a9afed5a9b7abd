import type { AppConfig } from '../config/app-config.js';
import { linkSignals } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import { observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { traceLlmCall } from '../observability/tracing.js';
import { DeadlineExceededError } from '../resilience/errors.js';
import { answerImages, answerReasoningDetails } from './answer-message-fields.js';
import type { CallOutcome, CallPipeline, CallPlan, CallTarget } from './call-pipeline.js';
import { callSignalPlan } from './call-signal.js';
import { addAnswer, type CallTrace } from './call-trace.js';
import { applyFieldPolicy, type FieldSupportPolicy } from './field-support.js';
import type { LlmStreamStart, ToolResultEvent } from './llm-client-types.js';
import { LlmRefusalError, StructuredOutputError } from './llm-errors.js';
import { addPartialUsage } from './partial-usage.js';
import { type PreparedCall, signalOf } from './prepared-call.js';
import type { PriceBook } from './pricing.js';
import { providerError } from './providers/provider-error-factory.js';
import { StreamSignal } from './stream-signal.js';
import { StreamWatchdog } from './stream-watchdog.js';
import { parseStructured, repairInstruction } from './structured-output.js';
import { runToolCalls, type ToolTurn } from './tools/run-tool-calls.js';
import type { GrantedTurn } from './turn-gate.js';
import type {
  AssistantMessage,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ChatStreamEvent,
  LlmProvider,
  StreamStart,
  TokenUsage,
} from './types.js';

/** The request as a target's provider can take it. */
type FitTarget = (target: CallTarget) => ChatRequest;

/** What the engine runs on. */
export interface CallEngineDeps {
  config: AppConfig;
  pipeline: CallPipeline;
  prices: PriceBook;
  clock: Clock;
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** The adapter for a target: its provider's, or its deployment's own when the target is a deployment of a model group. */
  provider(target: CallTarget): LlmProvider;
  estimateTokens(request: ChatRequest): number;
}

/** A streamed event the engine hands on: the start, provider deltas, and tool results when a tool loop runs. */
export type EngineStreamEvent = Exclude<ChatStreamEvent, { type: 'done' } | { type: 'start' }> | ToolResultEvent | LlmStreamStart;

/** A stream whose first event has arrived, handed out of a pipeline attempt. */
interface StartedStream {
  first: IteratorResult<ChatStreamEvent, void>;
  iterator: AsyncIterator<ChatStreamEvent, void, undefined>;
  watchdog: StreamWatchdog;
  link: StreamSignal;
  settle(usage: TokenUsage | undefined): void;
  startedAt: number;
  start: StreamStart | undefined;
}

/**
 * Runs prepared calls through the pipeline and the provider: one model turn per pipeline run,
 * repeated while a tool loop has calls to run (up to `maxSteps`) or a structured answer needs repair.
 */
export class CallEngine {
  readonly #deps: CallEngineDeps;

  constructor(deps: CallEngineDeps) {
    this.#deps = deps;
  }

  /** One answer, after any tool loop and repairs. Adds what it spends, step by step, to `trace`. */
  async answer(call: PreparedCall, trace: CallTrace): Promise<ChatCompletion> {
    let messages: ChatMessage[] = call.request.messages;
    for (let answers = 1, step = 1; ; step++) {
      const completion = await this.#turn(call, { ...call.request, messages }, trace);
      if (this.#runsTools(call, completion, step)) {
        const turn = await this.#runTools(call, completion);
        messages = [...messages, assistantTurn(completion), ...turn.messages];
        continue;
      }
      if (call.schema === undefined) return completion;
      assertNotRefused(call, completion);
      const result = parseStructured(completion.content, call.schema);
      if (result.ok) return completion;
      if (answers > call.repairs) {
        throw new StructuredOutputError({ promptName: call.promptName, problem: result.problem, content: completion.content, answers });
      }
      answers++;
      messages = [
        ...messages,
        { role: 'assistant', content: completion.content },
        { role: 'user', content: repairInstruction(result.problem) },
      ];
    }
  }

  /**
   * One streamed answer: retries and fallbacks apply until the first chunk of a turn arrives;
   * after that a failure ends the stream with an error. Every delta goes to `onEvent` as it
   * comes, and so do tool results between the turns of a tool loop. A structured answer is
   * validated at the end (no repair: its text has already been delivered).
   */
  async stream(call: PreparedCall, trace: CallTrace, onEvent: (event: EngineStreamEvent) => void): Promise<ChatCompletion> {
    let messages: ChatMessage[] = call.request.messages;
    for (let step = 1; ; step++) {
      const request = { ...call.request, messages };
      const completion = await traceLlmCall(
        { provider: call.targets[0]?.provider ?? 'unknown', request, logContent: this.#deps.config.llm.logContent },
        () => this.#streamTurn(call, request, trace, onEvent, step === 1),
      );
      if (this.#runsTools(call, completion, step)) {
        const turn = await this.#runTools(call, completion);
        for (const event of turn.events) onEvent(event);
        messages = [...messages, assistantTurn(completion), ...turn.messages];
        continue;
      }
      if (call.schema !== undefined) {
        assertNotRefused(call, completion);
        const result = parseStructured(completion.content, call.schema);
        if (!result.ok)
          throw new StructuredOutputError({
            promptName: call.promptName,
            problem: result.problem,
            content: completion.content,
            answers: 1,
          });
      }
      return completion;
    }
  }

  /** One model turn through the pipeline, admitted by the call's gate (if any) and settled to its cost. */
  async #turn(call: PreparedCall, asked: ChatRequest, trace: CallTrace): Promise<ChatCompletion> {
    // Awaited only when there is something to wait for: each `await` of a plain value is a turn of
    // the microtask queue, and a call without a gate or a provider that answers at once has none.
    const admitted = this.#admitTurn(call, asked);
    const grant = admitted === undefined ? undefined : await admitted;
    const request = bounded(asked, grant);
    let outcome: CallOutcome<ChatCompletion>;
    try {
      const fitting = this.#fitTargets(call.targets, request);
      const fitted = typeof fitting === 'function' ? fitting : await fitting;
      outcome = await this.#deps.pipeline.execute(this.#plan(call, request), async ({ target, signal }) => {
        const attemptRequest = fitted(target);
        const completion = await traceLlmCall(
          {
            provider: target.provider,
            request: attemptRequest,
            logContent: this.#deps.config.llm.logContent,
            group: target.group,
            deployment: target.deployment,
          },
          () => this.#deps.provider(target).complete(attemptRequest, signal),
        );
        return { value: completion, usage: completion.usage };
      });
    } catch (error) {
      if (grant !== undefined) await grant.settle(0, 0);
      throw error;
    }
    trace.attempts.push(...outcome.attempts);
    const cost = this.#cost(outcome.value, outcome.target.model);
    addAnswer(trace, outcome.value, cost, outcome.attempts.length, outcome.target);
    if (grant !== undefined) await grant.settle(cost, outcome.value.usage.totalTokens);
    return outcome.value;
  }

  /** The gate's grant for one turn; undefined when the call has no gate. */
  #admitTurn(call: PreparedCall, request: ChatRequest): Promise<GrantedTurn> | undefined {
    return call.turnGate?.(request, { noFallbacks: call.targets.length === 1, signal: signalOf(call) });
  }

  async #streamTurn(
    call: PreparedCall,
    asked: ChatRequest,
    trace: CallTrace,
    onEvent: (event: EngineStreamEvent) => void,
    announce: boolean,
  ): Promise<ChatCompletion> {
    const grant = await this.#admitTurn(call, asked);
    try {
      return await this.#streamGranted(call, bounded(asked, grant), trace, onEvent, announce, grant);
    } catch (error) {
      // A turn cut after it began was settled to what it used; one that failed before it began costs nothing.
      await grant?.settle(0, 0);
      throw error;
    }
  }

  async #streamGranted(
    call: PreparedCall,
    request: ChatRequest,
    trace: CallTrace,
    onEvent: (event: EngineStreamEvent) => void,
    announce: boolean,
    grant: GrantedTurn | undefined,
  ): Promise<ChatCompletion> {
    const { llm } = this.#deps.config;
    const clock = this.#deps.clock;
    const deadlineMs = this.#deps.config.resilience.deadlineMs;
    // A tool loop's later turns share the call's deadline, which began `deadlineMs` before its
    // `deadlineAt` (so that an error names the whole deadline and the time since the call began);
    // a single turn gets the whole of it.
    const deadline = { startedAt: call.deadlineAt === undefined ? clock.now() : call.deadlineAt - deadlineMs, deadlineMs };
    const fitted = await this.#fitTargets(call.targets, request);
    const outcome = await this.#deps.pipeline.execute<StartedStream>(this.#plan(call, request), async (info) => {
      const { target } = info;
      const attemptRequest = fitted(target);
      const startedAt = clock.now();
      // One signal for the provider, aborted by the attempt, the watchdog or the call (a pipeline may
      // unlink the attempt's signal from the caller once the attempt resolves, so the call is followed too).
      const link = new StreamSignal(info, call);
      const watchdog = new StreamWatchdog(clock, llm.streamFirstChunkTimeoutMs, llm.streamIdleTimeoutMs, target, deadline, link.controller);
      try {
        const events = this.#deps.provider(target).stream(attemptRequest, link.signal);
        const iterator = events[Symbol.asyncIterator]();
        // The provider's start (its response headers) is kept; the attempt lasts until the first content.
        let first = await iterator.next();
        let start: StreamStart | undefined;
        while (!first.done && first.value.type === 'start') {
          start = first.value;
          first = await iterator.next();
        }
        watchdog.touch();
        let settle: (usage: TokenUsage | undefined) => void = () => {};
        const usage = new Promise<TokenUsage | undefined>((resolve) => {
          settle = resolve;
        });
        return { value: { first, iterator, watchdog, link, settle, startedAt, start }, usage };
      } catch (error) {
        watchdog.stop();
        link.dispose();
        throw error;
      }
    });
    trace.attempts.push(...outcome.attempts);
    const { first, iterator, watchdog, link, settle, startedAt, start } = outcome.value;
    if (announce) {
      const event: LlmStreamStart = {
        type: 'start',
        provider: outcome.target.provider,
        model: outcome.target.model,
        attempts: trace.attempts.length,
        cached: false,
      };
      if (outcome.target.deployment !== undefined) event.deployment = outcome.target.deployment;
      if (start?.rateLimitHeaders !== undefined) event.rateLimitHeaders = start.rateLimitHeaders;
      if (start?.id !== undefined) event.id = start.id;
      if (start?.created !== undefined) event.created = start.created;
      onEvent(event);
    }
    const chunks = this.#chunkTimer(outcome.target, startedAt);
    let completion: ChatCompletion | undefined;
    let delivered = '';
    try {
      for (let step = first; !step.done; step = await iterator.next()) {
        watchdog.touch();
        chunks.chunk();
        if (step.value.type === 'done') completion = step.value.completion;
        else if (step.value.type !== 'start') {
          // Thinking is billed as output too: a cut stream has spent what it streamed of both.
          if (step.value.type === 'delta' || step.value.type === 'reasoning-delta') delivered += step.value.text;
          onEvent(step.value);
        }
      }
    } catch (error) {
      // Cut short: the provider has spent tokens it will never report; count what is known.
      const usage = addPartialUsage(trace, this.#deps.estimateTokens({ ...request, maxTokens: 0 }), delivered);
      // Priced as a whole answer is: by the model the stream reported (an Azure deployment's name rarely has a price).
      const prices = this.#deps.prices;
      const cost = prices.cost(prices.pricedModel(start?.model, outcome.target.model), usage);
      trace.costUsd += cost;
      settle(usage);
      await grant?.settle(cost, usage.totalTokens);
      throw error;
    } finally {
      watchdog.stop();
      link.dispose();
    }
    if (completion === undefined) {
      settle(undefined);
      throw providerError('connection', 'the stream ended without a final answer', outcome.target);
    }
    settle(completion.usage);
    const cost = this.#cost(completion, outcome.target.model);
    addAnswer(trace, completion, cost, outcome.attempts.length, outcome.target);
    await grant?.settle(cost, completion.usage.totalTokens);
    return completion;
  }

  /** Records the time to the first chunk and between chunks, in the OpenTelemetry GenAI names. */
  #chunkTimer(target: CallTarget, startedAt: number): { chunk(): void } {
    const metrics = this.#deps.metrics;
    const clock = this.#deps.clock;
    if (metrics === undefined) return { chunk: () => {} };
    const labels = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: target.provider,
      gen_ai_request_model: metrics.models.label(target.model),
    };
    let last: number | undefined;
    return {
      chunk() {
        const now = clock.now();
        if (last === undefined) observe(metrics.llmTimeToFirstChunk, labels, (now - startedAt) / 1000);
        else observe(metrics.llmTimePerOutputChunk, labels, (now - last) / 1000);
        last = now;
      },
    };
  }

  /**
   * The request as each target's provider can take it (fields it cannot honour refused, or
   * dropped by policy). Each provider is asked before the first attempt, so that loading a
   * provider's module never counts against an attempt's timeout; the policy applies to the
   * primary at once (a refusal spends nothing) and to a fallback when the call reaches it.
   */
  #fitTargets(targets: readonly CallTarget[], request: ChatRequest): FitTarget | Promise<FitTarget> {
    const policy = { drop: this.#deps.config.llm.dropUnsupportedParams, logger: this.#deps.logger, metrics: this.#deps.metrics };
    const only = targets.length === 1 ? targets[0] : undefined;
    if (only === undefined) return this.#fitEach(targets, request, policy);
    // One target (no fallbacks, no group): no table of fitted requests, and no promise when the provider answers at once.
    const asked = request.model === only.model ? request : { ...request, model: only.model };
    const fields = this.#deps.provider(only).unsupportedFields(asked);
    if (Array.isArray(fields)) {
      const fitted = applyFieldPolicy(asked, only.provider, fields, policy);
      return () => fitted;
    }
    return fields.then((unsupported) => {
      const fitted = applyFieldPolicy(asked, only.provider, unsupported, policy);
      return () => fitted;
    });
  }

  /** {@link #fitTargets} for several targets: each provider asked in turn, each request fitted when first needed. */
  async #fitEach(targets: readonly CallTarget[], request: ChatRequest, policy: FieldSupportPolicy): Promise<FitTarget> {
    const unsupported = new Map<CallTarget, string[]>();
    for (const target of targets) {
      unsupported.set(target, await this.#deps.provider(target).unsupportedFields({ ...request, model: target.model }));
    }
    const fitted = new Map<CallTarget, ChatRequest>();
    const fitTarget = (target: CallTarget): ChatRequest => {
      let result = fitted.get(target);
      if (result === undefined) {
        result = applyFieldPolicy({ ...request, model: target.model }, target.provider, unsupported.get(target) ?? [], policy);
        fitted.set(target, result);
      }
      return result;
    };
    if (targets[0] !== undefined) fitTarget(targets[0]);
    return fitTarget;
  }

  /** Whether this answer's tool calls are for the tool loop to run (and steps remain). */
  #runsTools(call: PreparedCall, completion: ChatCompletion, step: number): boolean {
    if (call.tools === undefined || completion.toolCalls === undefined || completion.toolCalls.length === 0) return false;
    if (step >= call.maxSteps) return false;
    const tools = call.tools;
    return completion.toolCalls.every((toolCall) => tools[toolCall.name]?.execute !== undefined || !Object.hasOwn(tools, toolCall.name));
  }

  /** Runs a turn's tool calls; the turn fails at once when the call is cancelled or its deadline passes, whether or not the tools stop. */
  async #runTools(call: PreparedCall, completion: ChatCompletion): Promise<ToolTurn> {
    const clock = this.#deps.clock;
    const deadline = new AbortController();
    const remaining = call.deadlineAt === undefined ? undefined : Math.max(0, call.deadlineAt - clock.now());
    const timer =
      remaining === undefined
        ? undefined
        : clock.setTimeout(() => {
            const deadlineMs = this.#deps.config.resilience.deadlineMs;
            // The call started `deadlineMs` before its `deadlineAt`.
            const elapsedMs = clock.now() - ((call.deadlineAt as number) - deadlineMs);
            deadline.abort(new DeadlineExceededError({ deadlineMs, elapsedMs, reason: 'passed while a tool was still running' }));
          }, remaining);
    const link = linkSignals(signalOf(call), deadline.signal);
    try {
      return await runToolCalls(completion.toolCalls ?? [], call.tools ?? {}, link.signal);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      link.dispose();
    }
  }

  #plan(call: PreparedCall, request: ChatRequest): CallPlan {
    const estimatedTokens = this.#deps.estimateTokens(request);
    const cancellation = call.cancellation;
    // A running call's signal is made only if a stage of the pipeline reads it.
    const plan: CallPlan =
      cancellation === undefined ? { targets: call.targets, estimatedTokens } : callSignalPlan(call.targets, estimatedTokens, cancellation);
    if (cancellation === undefined && call.signal !== undefined) plan.signal = call.signal;
    if (call.deadlineAt !== undefined) plan.deadlineAt = call.deadlineAt;
    return plan;
  }

  /** Priced by the model that answered, else by the model asked for (an Azure deployment name rarely has a price). */
  #cost(completion: ChatCompletion, requestedModel: string): number {
    const prices = this.#deps.prices;
    return prices.cost(prices.pricedModel(completion.model, requestedModel), completion.usage);
  }
}

/** The request within the output maximum its grant reserved for. */
function bounded(request: ChatRequest, grant: GrantedTurn | undefined): ChatRequest {
  return grant === undefined || request.maxTokens === grant.maxTokens ? request : { ...request, maxTokens: grant.maxTokens };
}

/**
 * The assistant's turn as the next request repeats it: its reasoning blocks, its text, its tool
 * calls, the images it made (with their signatures) and a compatible server's reasoning details,
 * as a client that appends the answer gives them back.
 */
function assistantTurn(completion: ChatCompletion): AssistantMessage {
  const message: AssistantMessage = { role: 'assistant', content: completion.content === '' ? null : completion.content };
  if (completion.toolCalls !== undefined) message.toolCalls = completion.toolCalls;
  if (completion.reasoning !== undefined) message.reasoning = completion.reasoning;
  const answered = completion.choices?.[0]?.message;
  const images = answerImages(answered);
  if (images.length > 0) message.images = images;
  const details = answerReasoningDetails(answered);
  if (details.length > 0) message.reasoningDetails = details;
  return message;
}

/** A prompt with a schema gets no data from a refusal: it fails with the model's words. */
function assertNotRefused(call: PreparedCall, completion: ChatCompletion): void {
  if (completion.refusal !== undefined || completion.finishReason === 'content_filter') {
    throw new LlmRefusalError({ promptName: call.promptName, refusal: completion.refusal ?? completion.content });
  }
}
