import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmProviderName } from '../../config/variables.js';
import type { FakeAnswer } from '../../testing/fake-behaviour.js';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { providerEnv, testConfig } from '../llm.test-helpers.js';
import type { ChatCompletion, ChatRequest, LlmProvider } from '../types.js';
import { createProvider } from './create-provider.js';

/**
 * A schema with `tool_choice: auto` offers the answer tool without forcing it: the model may write
 * text first, or answer in text alone. Either way a streaming client must join the deltas into
 * exactly the final content, the same as the answer without streaming.
 */
describe.each<LlmProviderName>(['anthropic', 'bedrock'])('%s with an answer tool offered but not forced', (name) => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const request: ChatRequest = {
    model: '',
    messages: [{ role: 'user', content: 'A word, please.' }],
    responseFormat: { type: 'json_schema', name: 'word', schema: { type: 'object', properties: { w: { type: 'string' } } } },
    toolChoice: 'auto',
  };

  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
    provider = createProvider(name, testConfig(providerEnv(name, fake)));
  });
  afterAll(async () => {
    await provider.close?.();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  async function streamed(): Promise<{ text: string; completion: ChatCompletion }> {
    let text = '';
    let completion: ChatCompletion | undefined;
    for await (const event of provider.stream(request, signal())) {
      if (event.type === 'delta') text += event.text;
      if (event.type === 'done') completion = event.completion;
    }
    if (completion === undefined) throw new Error('the stream ended without done');
    return { text, completion };
  }

  it('streams only the tool’s JSON when the model writes text before calling it', async () => {
    const answer: FakeAnswer = { type: 'answer', content: 'Here it is: ', toolCalls: [{ name: 'word', arguments: { w: 'x' } }] };
    fake.enqueue(answer, answer);
    const { text, completion } = await streamed();
    expect(completion.content).toBe('{"w":"x"}');
    expect(text).toBe(completion.content);
    expect((await provider.complete(request, signal())).content).toBe(completion.content);
  });

  it('streams the text, in its pieces, when the model answers without the tool', async () => {
    fake.enqueue({ type: 'answer', content: 'No word today, sorry.', chunks: 3 });
    let deltas = 0;
    let text = '';
    let content: string | undefined;
    for await (const event of provider.stream(request, signal())) {
      if (event.type === 'delta') {
        deltas++;
        text += event.text;
      }
      if (event.type === 'done') content = event.completion.content;
    }
    expect(content).toBe('No word today, sorry.');
    expect(text).toBe(content);
    expect(deltas).toBe(3);
  });
});
