import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import type { FakeAnswer } from './fake-behaviour.js';
import { FakeProviderServer } from './fake-provider-server.js';

/** Answers that exercise every part of the fake's OpenAI wire. */
const ANSWERS: Array<[string, FakeAnswer]> = [
  ['text', { type: 'answer', content: 'Hello there' }],
  [
    'tool calls',
    {
      type: 'answer',
      toolCalls: [
        { name: 'weather', arguments: { city: 'Paris' } },
        { name: 'time', arguments: {} },
      ],
    },
  ],
  ['a refusal', { type: 'answer', refusal: 'I can’t help with that.' }],
  [
    'two choices with log probabilities and answer-level fields',
    {
      type: 'answer',
      choices: [{ content: 'one two' }, { content: 'three', finishReason: 'length' }],
      logprobs: true,
      systemFingerprint: 'fp_1',
      serviceTier: 'default',
    },
  ],
];

describe('the fake server’s OpenAI wire against OpenAI’s spec', () => {
  let fake: FakeProviderServer;
  let client: OpenAI;

  beforeAll(async () => {
    // Compiled before the server starts: compiling blocks for seconds, longer than a keep-alive socket waits.
    validateOpenAiSchema('CreateChatCompletionResponse', {});
    validateOpenAiSchema('CreateChatCompletionStreamResponse', {});
    fake = await new FakeProviderServer().start();
    client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it.each(ANSWERS)('answers %s as a valid CreateChatCompletionResponse', async (_case, answer) => {
    fake.enqueue(answer);
    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], top_logprobs: 2 });
    expect(validateOpenAiSchema('CreateChatCompletionResponse', completion)).toEqual([]);
  });

  it.each(ANSWERS)('streams %s as valid chunks', async (_case, answer) => {
    fake.enqueue(answer);
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const problems: string[] = [];
    let count = 0;
    for await (const chunk of stream) {
      count++;
      problems.push(...validateOpenAiSchema('CreateChatCompletionStreamResponse', chunk));
    }
    expect(count).toBeGreaterThan(2);
    expect(problems).toEqual([]);
  });

  it('tells a broken answer from a valid one', () => {
    expect(validateOpenAiSchema('CreateChatCompletionResponse', { id: 'x', choices: [{ index: 0 }] }).length).toBeGreaterThan(0);
  });
});
