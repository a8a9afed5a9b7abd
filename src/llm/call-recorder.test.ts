import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { CallRecorder, type FinishedCall } from './call-recorder.js';
import { newTrace } from './call-trace.js';

function recorder(level: 'debug' | 'info'): { recorder: CallRecorder; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, format: 'json' }, { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { recorder: new CallRecorder(logger, undefined, undefined), lines };
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

  it('writes nothing for a success below debug, and warns of a failure at any level', () => {
    const { recorder: calls, lines } = recorder('info');
    calls.record(finished('success'));
    expect(lines).toEqual([]);
    calls.record(finished('provider_timeout'));
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'llm call failed: provider_timeout', completionTokens: 3 })]);
  });
});
