import { describe, expect, it } from 'vitest';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, testConfig } from './llm.test-helpers.js';
import type { ChatRequest, ChatStreamEvent, LlmProvider, StreamStart } from './types.js';
import type { UsageRecord } from './usage-record.js';

/**
 * An Azure deployment whose stream is cut after 4000 characters of text, its start naming `reported`
 * when given, the text preceded by `reasoning` characters of thinking when given.
 */
class CutDeployment implements LlmProvider {
  readonly name = 'azure' as const;
  readonly defaultModel = 'prod-deploy';

  constructor(
    readonly reported?: string,
    readonly reasoning = 0,
  ) {}

  unsupportedFields(): string[] {
    return [];
  }

  async complete(): Promise<never> {
    throw new Error('only streamed here');
  }

  async *stream(_request: ChatRequest): AsyncGenerator<ChatStreamEvent> {
    const start: StreamStart = { type: 'start', id: 'chatcmpl-cut' };
    if (this.reported !== undefined) start.model = this.reported;
    yield start;
    if (this.reasoning > 0) yield { type: 'reasoning-delta', text: 'y'.repeat(this.reasoning) };
    yield { type: 'delta', text: 'x'.repeat(4000) };
    throw new Error('connection reset');
  }

  async ping(): Promise<void> {}
}

async function cutRow(provider: CutDeployment, prices?: Record<string, { input: number; output: number }>): Promise<UsageRecord> {
  const rows: UsageRecord[] = [];
  const env: Record<string, string> = {
    LLM_PROVIDER: 'azure',
    AZURE_OPENAI_ENDPOINT: 'https://example.openai.azure.com',
    AZURE_OPENAI_API_KEY: 'azure-test-key',
    AZURE_OPENAI_DEPLOYMENT: 'prod-deploy',
    LLM_LEDGER_BATCH_SIZE: '1',
  };
  if (prices !== undefined) env['LLM_PRICES'] = JSON.stringify(prices);
  const client = createLlmClient(testConfig(env), {
    logger: capturingLogger().logger,
    providers: { azure: provider },
    usageSink: { writeBatch: async (batch) => void rows.push(...batch) },
  });
  await expect(
    (async () => {
      for await (const _event of client.stream({ messages: [{ role: 'user', content: 'Tell me a long story.' }] })) {
      }
    })(),
  ).rejects.toThrow('connection reset');
  await client.close();
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('a stream cut short on a deployment whose name has no price', () => {
  it('is priced by the model the stream reported, as its answer would have been', async () => {
    const row = await cutRow(new CutDeployment('gpt-4o-mini'));
    expect(row.outcome).toBe('error');
    expect(row.completionTokens).toBe(1000);
    expect(row.costUsd).toBeGreaterThan(0);
  });

  it('is priced by the deployment’s own name when the stream reported no model', async () => {
    const row = await cutRow(new CutDeployment(), { 'prod-deploy': { input: 1, output: 2 } });
    expect(row.costUsd).toBeGreaterThan(0);
    expect((await cutRow(new CutDeployment())).costUsd).toBe(0);
  });

  it('counts the reasoning it streamed among the tokens spent, as the provider bills thinking as output', async () => {
    const row = await cutRow(new CutDeployment('gpt-4o-mini', 2000));
    expect(row.completionTokens).toBe(1500);
  });
});
