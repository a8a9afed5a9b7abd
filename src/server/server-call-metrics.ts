import { observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';

const OPERATION = 'chat';

/**
 * The OpenTelemetry GenAI server metrics of one chat request: its duration (with `error_type` when
 * it failed), and for streams the time to the first token and the time per output token after it.
 * Recorded once, however the request ends, each label set bound once (see `metric-series`).
 */
export class ServerCallMetrics {
  readonly #metrics: GroundworkMetrics;
  readonly #model: string;
  readonly #startedAt: number;
  #firstTokenAt: number | undefined;
  readonly #operation: string;
  #recorded = false;

  constructor(metrics: GroundworkMetrics, model: string, startedAt: number, operation: string = OPERATION) {
    this.#metrics = metrics;
    // Folded once per request (a Set lookup, and a Map lookup for a name outside the set): a model the service does not know is labelled `other`.
    this.#model = metrics.models.label(model);
    this.#startedAt = startedAt;
    this.#operation = operation;
  }

  /** A streamed chunk carried output (text, a refusal or a tool call): the first one sets the time to first token. */
  token(now?: number): void {
    if (this.#firstTokenAt !== undefined) return;
    // The clock is read for the first token only: every later chunk returns above.
    this.#firstTokenAt = now ??= performance.now();
    observe(this.#metrics.serverTimeToFirstToken, this.#labels(), (now - this.#startedAt) / 1000);
  }

  /** The request was answered; `outputTokens` spreads a stream's time after its first token. */
  succeed(outputTokens: number | undefined, now: number = performance.now()): void {
    if (!this.#record('', now)) return;
    if (this.#firstTokenAt !== undefined && outputTokens !== undefined && outputTokens > 1) {
      observe(this.#metrics.serverTimePerOutputToken, this.#labels(), (now - this.#firstTokenAt) / 1000 / (outputTokens - 1));
    }
  }

  /** The request failed with `errorType` (the answer's error code). */
  fail(errorType: string, now: number = performance.now()): void {
    this.#record(errorType, now);
  }

  #record(errorType: string, now: number): boolean {
    if (this.#recorded) return false;
    this.#recorded = true;
    // Written out rather than spread from #labels(): this runs for every request.
    const labels = { gen_ai_operation_name: this.#operation, gen_ai_request_model: this.#model, error_type: errorType };
    observe(this.#metrics.serverRequestDuration, labels, (now - this.#startedAt) / 1000);
    return true;
  }

  #labels() {
    return { gen_ai_operation_name: this.#operation, gen_ai_request_model: this.#model };
  }
}
