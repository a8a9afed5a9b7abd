import type { Logger } from '../observability/logger.js';
import { increment, observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { CallTrace, StepTrace } from './call-trace.js';
import type { UsageLedger } from './usage-ledger.js';
import type { LlmOperation, UsageAttribution, UsageRecord } from './usage-record.js';

/** One finished call, as metrics, the ledger and the log see it. */
export interface FinishedCall {
  trace: CallTrace;
  operation: 'chat' | 'stream' | 'embeddings' | 'responses';
  promptName: string | undefined;
  promptVersion: string | undefined;
  startedAt: Date;
  latencyMs: number;
  /** `success`, or the error's code. */
  outcome: string;
  cacheHit: boolean;
  /** Who the call is billed to, if anyone. */
  attribution?: UsageAttribution | undefined;
  /** Where this call's ledger rows go instead of the ledger. */
  onUsageRecord?: ((record: UsageRecord) => void) | undefined;
  /** The prompt and answer text, given only with `LLM_LOG_CONTENT=true`: stored on the call's last ledger row. */
  content?: { prompt: string; answer: string | null } | undefined;
}

/** Longest prompt or answer text a ledger row keeps, in characters. */
const CONTENT_LIMIT = 32_768;

function clip(text: string | null): string | null {
  return text === null || text.length <= CONTENT_LIMIT ? text : `${text.slice(0, CONTENT_LIMIT)}…`;
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
      // Label sets written out rather than spread from a shared one: this runs for every call.
      const operation = genAiOperation(call);
      const provider = trace.provider;
      const model = metrics.models.label(trace.model);
      observe(
        metrics.llmDuration,
        {
          gen_ai_operation_name: operation,
          gen_ai_provider_name: provider,
          gen_ai_request_model: model,
          error_type: call.outcome === 'success' ? '' : call.outcome,
        },
        call.latencyMs / 1000,
      );
      if (trace.usage.totalTokens > 0) {
        observe(
          metrics.llmTokens,
          { gen_ai_operation_name: operation, gen_ai_provider_name: provider, gen_ai_request_model: model, gen_ai_token_type: 'input' },
          trace.usage.promptTokens,
        );
        // Embeddings have no output tokens: no series rather than a stream of zeros.
        if (operation !== 'embeddings') {
          observe(
            metrics.llmTokens,
            { gen_ai_operation_name: operation, gen_ai_provider_name: provider, gen_ai_request_model: model, gen_ai_token_type: 'output' },
            trace.usage.completionTokens,
          );
        }
      }
      increment(metrics.llmCalls, { provider, model, outcome: call.outcome });
      if (trace.costUsd > 0) increment(metrics.llmCost, { provider, model }, trace.costUsd);
      const billed = call.attribution;
      if (billed !== undefined && trace.costUsd > 0)
        increment(metrics.tenantSpend, { key_id: billed.keyId, team_id: billed.teamId ?? '' }, trace.costUsd);
    }
    this.#recordLedger(call);
    const succeeded = call.outcome === 'success';
    // A success is logged at debug, which a service rarely enables: its fields are not gathered for nothing.
    if (succeeded && !this.#logger.isLevelEnabled('debug')) return;
    const fields = {
      provider: trace.provider,
      model: trace.model,
      ...(trace.deployment === undefined ? {} : { deployment: trace.deployment }),
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
    if (trace.steps.length > 1) Object.assign(fields, { steps: trace.steps.length });
    if (succeeded) this.#logger.debug(fields, 'llm call');
    else this.#logger.warn(fields, `llm call failed: ${call.outcome}`);
  }

  /**
   * One ledger row for a call of one model turn; for a tool loop (or a repaired answer), one row
   * per turn, each with its own tokens and cost: the turns before the last are `continued`, and a
   * call that failed after some turns adds a row for the failed one.
   */
  #recordLedger(call: FinishedCall): void {
    const ledger = this.#ledger;
    const take = call.onUsageRecord ?? (ledger === undefined ? undefined : (record: UsageRecord) => ledger.record(record));
    if (take === undefined) return;
    const { trace } = call;
    const content = call.content;
    const row = (step: StepTrace, outcome: string, last = true) =>
      take({
        ...(content === undefined || !last ? {} : { promptText: clip(content.prompt), answerText: clip(content.answer) }),
        createdAt: call.startedAt,
        operation: genAiOperation(call),
        promptName: call.promptName ?? null,
        promptVersion: call.promptVersion ?? null,
        latencyMs: Math.round(call.latencyMs),
        cacheHit: call.cacheHit,
        keyId: call.attribution?.keyId ?? null,
        teamId: call.attribution?.teamId ?? null,
        provider: step.provider,
        model: step.model,
        deployment: step.deployment ?? null,
        promptTokens: step.usage.promptTokens,
        completionTokens: step.usage.completionTokens,
        totalTokens: step.usage.totalTokens,
        cachedPromptTokens: step.usage.cachedPromptTokens ?? 0,
        reasoningTokens: step.usage.reasoningTokens ?? 0,
        costUsd: step.costUsd,
        outcome,
        attempts: step.attempts,
        requestId: step.requestId ?? null,
      });
    const whole: StepTrace = { ...trace, attempts: trace.attempts.length };
    const succeeded = call.outcome === 'success';
    if (trace.steps.length === 0 || (trace.steps.length === 1 && succeeded)) {
      row(whole, call.outcome);
      return;
    }
    for (const [index, step] of trace.steps.entries())
      row(step, succeeded && index === trace.steps.length - 1 ? 'success' : 'continued', succeeded && index === trace.steps.length - 1);
    if (!succeeded) row(remainder(whole, trace.steps), call.outcome);
  }
}

/** The OpenTelemetry GenAI operation name of a call: a stream is a chat. */
function genAiOperation(call: FinishedCall): LlmOperation {
  return call.operation === 'embeddings' || call.operation === 'responses' ? call.operation : 'chat';
}

/** What a failed call spent beyond its answered steps (a stream cut short), and the attempts it took. */
function remainder(whole: StepTrace, steps: readonly StepTrace[]): StepTrace {
  const left = (pick: (step: StepTrace) => number) => Math.max(0, pick(whole) - steps.reduce((sum, step) => sum + pick(step), 0));
  return {
    provider: whole.provider,
    model: whole.model,
    usage: {
      promptTokens: left((step) => step.usage.promptTokens),
      completionTokens: left((step) => step.usage.completionTokens),
      totalTokens: left((step) => step.usage.totalTokens),
    },
    costUsd: left((step) => step.costUsd),
    attempts: left((step) => step.attempts),
    requestId: undefined,
  };
}
