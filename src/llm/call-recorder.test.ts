import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { CallRecorder, type FinishedCall } from './call-recorder.js';
import { newTrace } from './call-trace.js';
import type { UsageRecord } from './usage-record.js';

function recorder(level: 'debug' | 'info'): { recorder: CallRecorder; lines: Array<Record<string, unknown>>; metrics: GroundworkMetrics } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, format: 'json' }, { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const metrics = new GroundworkMetrics();
  return { recorder: new CallRecorder(logger, metrics, undefined), lines, metrics };
}

/** A counter's value, or a histogram's count, in the series whose labels include `labels`. */
async function seriesValue(
  metric: { get(): Promise<{ values: Array<{ labels: object; value: number; metricName?: string }> }> },
  labels: Record<string, string>,
): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find(
    (entry) =>
      (entry.metricName === undefined || entry.metricName.endsWith('_count')) &&
      Object.entries(labels).every(([key, value]) => (entry.labels as Record<string, unknown>)[key] === value),
  )?.value;
}

function finished(outcome: string): FinishedCall {
  const trace = newTrace('openai', 'gpt-4o-mini');
  trace.usage = { promptTokens: 12, completionTokens: 3, totalTokens: 15 };
  return {
    trace,
    operation: 'chat',
    promptName: 'greet',
    promptVersion: '1',
    startedAt: new Date(0),
    latencyMs: 4.6,
    outcome,
    cacheHit: false,
  };
}

describe('CallRecorder log line', () => {
  it('logs a success at debug, with its figures', () => {
    const { recorder: calls, lines } = recorder('debug');
    calls.record(finished('success'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'llm call', prompt: 'greet', outcome: 'success', promptTokens: 12, latencyMs: 5 }),
    ]);
  });

  it('writes no line for a success below debug, yet still records its usage row and its metrics', async () => {
    const { recorder: calls, lines, metrics } = recorder('info');
    const rows: UsageRecord[] = [];
    const call = finished('success');
    call.trace.costUsd = 0.25;
    calls.record({ ...call, onUsageRecord: (row) => rows.push(row) });
    expect(lines).toEqual([]);
    expect(rows).toEqual([expect.objectContaining({ outcome: 'success', promptTokens: 12, completionTokens: 3, costUsd: 0.25 })]);
    const model = { provider: 'openai', model: 'gpt-4o-mini' };
    expect(await seriesValue(metrics.llmCalls, { ...model, outcome: 'success' })).toBe(1);
    expect(await seriesValue(metrics.llmCost, model)).toBe(0.25);
    expect(await seriesValue(metrics.llmDuration, { gen_ai_request_model: 'gpt-4o-mini', error_type: '' })).toBe(1);
    expect(await seriesValue(metrics.llmTokens, { gen_ai_request_model: 'gpt-4o-mini', gen_ai_token_type: 'output' })).toBe(1);
  });

  it('warns of a failure at any level', () => {
    const { recorder: calls, lines } = recorder('info');
    calls.record(finished('provider_timeout'));
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'llm call failed: provider_timeout', completionTokens: 3 })]);
  });
});
