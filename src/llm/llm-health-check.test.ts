import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, testConfig } from './llm.test-helpers.js';
import { llmHealthChecks } from './llm-health-check.js';

describe('llmHealthChecks', () => {
  it('reports a provider degraded while the circuit of a fallback model of it is open, not only its primary model’s', async () => {
    const config = testConfig({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_FALLBACKS: 'openai:gpt-4o,anthropic:claude-sonnet-4-5',
      ANTHROPIC_API_KEY: 'sk-ant-test',
    });
    const client = createLlmClient(config, { logger: capturingLogger().logger });
    const open = new Set(['openai/gpt-4o']);
    const checks = llmHealthChecks(
      config,
      client,
      async (provider, model) => ({
        state: open.has(`${provider}/${model}`) ? 'open' : 'closed',
        retryAt: 61_000,
      }),
      new ManualClock(1000),
    );
    expect(checks.map((check) => check.name)).toEqual(['llm:openai', 'llm:anthropic']);
    const signal = new AbortController().signal;
    const openai = await checks[0]!.check(signal, {});
    expect(openai).toMatchObject({
      status: 'degraded',
      detail: 'gpt-4o: circuit open after repeated provider failures; next test request in 60 s',
      info: { model: 'gpt-4o-mini', breaker: 'open', breakers: { 'gpt-4o-mini': 'closed', 'gpt-4o': 'open' } },
    });
    expect(await checks[1]!.check(signal, {})).toMatchObject({ status: 'ok', info: { model: 'claude-sonnet-4-5', breaker: 'closed' } });
    open.clear();
    expect(await checks[0]!.check(signal, {})).toMatchObject({ status: 'ok', detail: 'gpt-4o-mini' });
    await client.close();
  });
});
