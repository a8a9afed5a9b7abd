import type { AppConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import { type LinkedSignal, linkSignals } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import { traceLlmCall } from '../observability/tracing.js';
import type { CallPipeline, CallPlan } from './call-pipeline.js';
import { addAnswer, type CallTrace } from './call-trace.js';
import { StructuredOutputError } from './llm-errors.js';
import { addPartialUsage } from './partial-usage.js';
import type { PreparedCall } from './prepared-call.js';
import type { PriceBook } from './pricing.js';
import { providerError } from './providers/provider-error-factory.js';
import { StreamWatchdog } from './stream-watchdog.js';
import { parseStructured, repairInstruction } from './structured-output.js';
import type { ChatCompletion, ChatMessage, ChatRequest, ChatStreamEvent, LlmProvider, TokenUsage } from './types.js';

/** What the engine runs on. */
export interface CallEngineDeps {
  config: AppConfig;
  pipeline: CallPipeline;
  prices: PriceBook;
  clock: Clock;
  provider(name: LlmProviderName): LlmProvider;
  estimateTokens(request: ChatRequest): number;
}

/** A stream whose first event has arrived, handed out of a pipeline attempt. */
interface StartedStream {
  first: IteratorResult<ChatStreamEvent, void>;
  iterator: AsyncIterator<ChatStreamEvent, void, undefined>;
  watchdog: StreamWatchdog;
  link: LinkedSignal;
  settle(usage: TokenUsage | undefined): void;
}

/** Runs prepared calls through the pipeline and the provider, validating and repairing structured answers. */
export class CallEngine {
  readonly #deps: CallEngineDeps;

  constructor(deps: CallEngineDeps) {
    this.#deps = deps;
  }

  /** One answer, repaired up to `call.repairs` times when it breaks the schema. Adds what it spends to `trace`. */
  async answer(call: PreparedCall, trace: CallTrace): Promise<ChatCompletion> {
    let messages: ChatMessage[] = call.request.messages;
    for (let answers = 1; ; answers++) {
      const request = { ...call.request, messages };
      const outcome = await this.#deps.pipeline.execute(this.#plan(call, request), async ({ target, signal }) => {
        const attemptRequest = { ...request, model: target.model };
        const completion = await traceLlmCall(
          { provider: target.provider, request: attemptRequest, logContent: this.#deps.config.llm.logContent },
          () => this.#deps.provider(target.provider).complete(attemptRequest, signal),
        );
        return { value: completion, usage: completion.usage };
      });
      trace.attempts.push(...outcome.attempts);
      addAnswer(trace, outcome.value, this.#cost(outcome.value, outcome.target.model));
      if (call.schema === undefined) return outcome.value;
      const result = parseStructured(outcome.value.content, call.schema);
      if (result.ok) return { ...outcome.value, usage: { ...trace.usage } };
      if (answers > call.repairs) {
        throw new StructuredOutputError({ promptName: call.promptName, problem: result.problem, content: outcome.value.content, answers });
      }
      messages = [
        ...messages,
        { role: 'assistant', content: outcome.value.content },
        { role: 'user', content: repairInstruction(result.problem) },
      ];
    }
  }

  /**
   * One streamed answer: retries and fallbacks apply until the first chunk arrives; after that a
   * failure ends the stream with an error. Each delta goes to `onDelta`. A structured answer is
   * validated at the end (no repair: its text has already been delivered).
   */
  async stream(call: PreparedCall, trace: CallTrace, onDelta: (text: string) => void): Promise<ChatCompletion> {
    return traceLlmCall(
      { provider: call.targets[0]?.provider ?? 'unknown', request: call.request, logContent: this.#deps.config.llm.logContent },
      () => this.#stream(call, trace, onDelta),
    );
  }

  async #stream(call: PreparedCall, trace: CallTrace, onDelta: (text: string) => void): Promise<ChatCompletion> {
    const llm = this.#deps.config.llm;
    const deadline = { startedAt: this.#deps.clock.now(), deadlineMs: this.#deps.config.resilience.deadlineMs };
    const outcome = await this.#deps.pipeline.execute<StartedStream>(this.#plan(call, call.request), async ({ target, signal }) => {
      const watchdog = new StreamWatchdog(this.#deps.clock, llm.streamFirstChunkTimeoutMs, llm.streamIdleTimeoutMs, target, deadline);
      // The call's own signal too: a pipeline may unlink the attempt's signal from the caller once the attempt resolves.
      const link = linkSignals(signal, watchdog.signal, call.signal);
      try {
        const events = this.#deps.provider(target.provider).stream({ ...call.request, model: target.model }, link.signal);
        const iterator = events[Symbol.asyncIterator]();
        const first = await iterator.next();
        watchdog.touch();
        let settle: (usage: TokenUsage | undefined) => void = () => {};
        const usage = new Promise<TokenUsage | undefined>((resolve) => {
          settle = resolve;
        });
        return { value: { first, iterator, watchdog, link, settle }, usage };
      } catch (error) {
        watchdog.stop();
        link.dispose();
        throw error;
      }
    });
    trace.attempts.push(...outcome.attempts);
    const { first, iterator, watchdog, link, settle } = outcome.value;
    let completion: ChatCompletion | undefined;
    let delivered = '';
    try {
      for (let step = first; !step.done; step = await iterator.next()) {
        watchdog.touch();
        if (step.value.type === 'delta') {
          delivered += step.value.text;
          onDelta(step.value.text);
        } else completion = step.value.completion;
      }
    } catch (error) {
      // Cut short: the provider has spent tokens it will never report; count what is known.
      const usage = addPartialUsage(trace, this.#deps.estimateTokens({ ...call.request, maxTokens: 0 }), delivered);
      trace.costUsd += this.#deps.prices.cost(outcome.target.model, usage);
      settle(usage);
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
    addAnswer(trace, completion, this.#cost(completion, outcome.target.model));
    if (call.schema !== undefined) {
      const result = parseStructured(completion.content, call.schema);
      if (!result.ok)
        throw new StructuredOutputError({ promptName: call.promptName, problem: result.problem, content: completion.content, answers: 1 });
    }
    return completion;
  }

  #plan(call: PreparedCall, request: ChatRequest): CallPlan {
    const plan: CallPlan = { targets: call.targets, estimatedTokens: this.#deps.estimateTokens(request) };
    if (call.signal !== undefined) plan.signal = call.signal;
    return plan;
  }

  /** Priced by the model that answered, else by the model asked for (an Azure deployment name rarely has a price). */
  #cost(completion: ChatCompletion, requestedModel: string): number {
    const prices = this.#deps.prices;
    const model = prices.priceOf(completion.model) === undefined ? requestedModel : completion.model;
    return prices.cost(model, completion.usage);
  }
}
