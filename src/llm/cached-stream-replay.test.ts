import { describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../cache/memory-cache-store.js';
import { StoreResponseCache } from '../cache/store-response-cache.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, testConfig } from './llm.test-helpers.js';
import type { LlmStreamEvent } from './llm-client-types.js';
import { completionOf } from './model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from './types.js';

/** Two choices: one that calls a tool with logprobs, one that refuses. */
const answer: ChatCompletion = completionOf({
  provider: 'openai',
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: {
        content: 'Looking it up.',
        toolCalls: [{ id: 'call_1', type: 'function', name: 'lookup', arguments: '{"word":"cat"}' }],
      },
      finishReason: 'tool_calls',
      logprobs: { content: [{ token: 'Looking', logprob: -0.1, bytes: null, topLogprobs: [] }], refusal: null },
    },
    { index: 1, message: { content: null, refusal: 'I cannot help with that.' }, finishReason: 'content_filter' },
  ],
  usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
});

/** Streams `answer` as an OpenAI-family provider does: every piece of every choice, then done. */
class Streaming implements LlmProvider {
  readonly name = 'openai' as const;
  readonly defaultModel = 'gpt-4o-mini';
  requests = 0;

  unsupportedFields(): string[] {
    return [];
  }

  async complete(): Promise<ChatCompletion> {
    this.requests++;
    return answer;
  }

  async *stream(_request: ChatRequest): AsyncGenerator<ChatStreamEvent> {
    this.requests++;
    yield { type: 'delta', text: 'Looking it up.', choice: 0 };
    yield { type: 'logprobs-delta', choice: 0, logprobs: answer.choices[0]!.logprobs! };
    yield { type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', name: 'lookup', arguments: '' };
    yield { type: 'tool-call-delta', choice: 0, index: 0, arguments: '{"word":"cat"}' };
    yield { type: 'refusal-delta', text: 'I cannot help with that.', choice: 1 };
    yield { type: 'done', completion: answer };
  }

  async ping(): Promise<void> {}
}

/** What a stream's events say, `start` and `done` left out: what a reader builds its answer from. */
function pieces(events: LlmStreamEvent[]): unknown[] {
  return events.filter((event) => event.type !== 'start' && event.type !== 'done');
}

describe('a streamed answer from the response cache', () => {
  it('replays every choice’s text, refusal, tool calls and logprobs, as the stream that made it did', async () => {
    const provider = new Streaming();
    const { logger } = capturingLogger();
    const cache = new StoreResponseCache({ store: new MemoryCacheStore({ maxEntries: 10, maxBytes: 1e6 }), ttlMs: 60_000, logger });
    const client = createLlmClient(testConfig({ OPENAI_API_KEY: 'sk-test' }), { logger, providers: { openai: provider }, cache });
    const read = async () => {
      const events: LlmStreamEvent[] = [];
      for await (const event of client.stream({ messages: [{ role: 'user', content: 'cat?' }], temperature: 0, n: 2 })) events.push(event);
      return events;
    };
    const miss = await read();
    const hit = await read();
    expect(provider.requests).toBe(1);
    expect(hit[0]).toMatchObject({ type: 'start', cached: true });
    expect(pieces(hit)).toEqual(pieces(miss));
    expect(hit.at(-1)).toMatchObject({ type: 'done', response: { toolCalls: answer.toolCalls, choices: answer.choices } });
    await client.close();
  });
});
