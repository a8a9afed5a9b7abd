import type { Logger } from '../observability/logger.js';
import { increment, observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CallTrace } from './call-trace.js';
import type { UsageLedger } from './usage-ledger.js';

/** One finished call, as metrics, the ledger and the log see it. */
export interface FinishedCall {
  trace: CallTrace;
  operation: 'chat' | 'stream';
  promptName: string | undefined;
  promptVersion: string | undefined;
  startedAt: Date;
  latencyMs: number;
  /** `success`, or the error's code. */
  outcome: string;
  cacheHit: boolean;
}

/** Records every finished call in metrics, the usage ledger and one log line (never prompt text). */
export class CallRecorder {
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #ledger: UsageLedger | undefined;

  constructor(logger: Logger, metrics: GroundworkMetrics | undefined, ledger: UsageLedger | undefined) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#ledger = ledger;
  }

  record(call: FinishedCall): void {
    const { trace } = call;
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      const labels = { gen_ai_operation_name: 'chat', gen_ai_provider_name: trace.provider, gen_ai_request_model: trace.model };
      observe(metrics.llmDuration, { ...labels, error_type: call.outcome === 'success' ? '' : call.outcome }, call.latencyMs / 1000);
      if (trace.usage.totalTokens > 0) {
        observe(metrics.llmTokens, { ...labels, gen_ai_token_type: 'input' }, trace.usage.promptTokens);
        observe(metrics.llmTokens, { ...labels, gen_ai_token_type: 'output' }, trace.usage.completionTokens);
      }
      increment(metrics.llmCalls, { provider: trace.provider, model: trace.model, outcome: call.outcome });
      if (trace.costUsd > 0) increment(metrics.llmCost, { provider: trace.provider, model: trace.model }, trace.costUsd);
    }
    this.#ledger?.record({
      createdAt: call.startedAt,
      provider: trace.provider,
      model: trace.model,
      promptName: call.promptName ?? null,
      promptVersion: call.promptVersion ?? null,
      promptTokens: trace.usage.promptTokens,
      completionTokens: trace.usage.completionTokens,
      totalTokens: trace.usage.totalTokens,
      cachedPromptTokens: trace.usage.cachedPromptTokens ?? 0,
      reasoningTokens: trace.usage.reasoningTokens ?? 0,
      costUsd: trace.costUsd,
      latencyMs: Math.round(call.latencyMs),
      outcome: call.outcome,
      cacheHit: call.cacheHit,
      attempts: trace.attempts.length,
      requestId: trace.requestId ?? null,
    });
    const fields = {
      provider: trace.provider,
      model: trace.model,
      prompt: call.promptName,
      promptVersion: call.promptVersion,
      operation: call.operation,
      outcome: call.outcome,
      cached: call.cacheHit,
      attempts: trace.attempts.length,
      promptTokens: trace.usage.promptTokens,
      completionTokens: trace.usage.completionTokens,
      costUsd: trace.costUsd,
      latencyMs: Math.round(call.latencyMs),
      requestId: trace.requestId,
    };
    if (call.outcome === 'success') this.#logger.debug(fields, 'llm call');
    else this.#logger.warn(fields, `llm call failed: ${call.outcome}`);
  }
}
