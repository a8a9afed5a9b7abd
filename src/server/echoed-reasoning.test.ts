import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { refusal, type ServiceStack, startServiceStack } from './service-stack.test-helpers.js';

/*
 * OpenAI-compatible servers answer their reasoning in fields of their own: its text in
 * `reasoning` (OpenRouter, newer vLLM) and, on OpenRouter, its state in `reasoning_details`, which
 * it asks to have back on the assistant message to carry the reasoning across turns. A client of
 * `serve` appends the answer message as it got it: the text is accepted and not sent on, as
 * `reasoning_content` is; the details go back to the compatible server they came from.
 */

const DETAILS = [
  { type: 'reasoning.text', text: 'The capital is asked for.', signature: 'sig-1', format: 'anthropic-claude-v1', index: 0 },
  { type: 'reasoning.encrypted', data: 'opaque-state', format: 'anthropic-claude-v1', index: 1 },
];

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Asks, echoes the answer's message as the client got it, asks again; the messages the provider got the second time. */
async function twoTurns(running: ServiceStack, model: string): Promise<unknown[]> {
  running.fake.enqueue({
    type: 'answer',
    content: 'Paris.',
    messageFields: { reasoning: 'The capital is asked for.', reasoning_details: DETAILS },
  });
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Capital of France?' }];
  const first = await running.client.chat.completions.create({ model, messages });
  const answered = first.choices[0]!.message as OpenAI.ChatCompletionMessage & Record<string, unknown>;
  // Relayed as the server answered them.
  expect(answered['reasoning']).toBe('The capital is asked for.');
  expect(answered['reasoning_details']).toEqual(DETAILS);
  messages.push(answered, { role: 'user', content: 'And of Italy?' });
  running.fake.enqueue({ type: 'answer', content: 'Rome.' });
  const second = await running.client.chat.completions.create({ model, messages });
  expect(second.choices[0]?.message.content).toBe('Rome.');
  return (running.fake.requests.at(-1)?.body as { messages?: unknown[] } | undefined)?.messages ?? [];
}

describe('serve, a compatible server’s reasoning fields echoed on the assistant message', () => {
  it('sends reasoning_details back to an OpenAI-compatible server, and not the reasoning text', async () => {
    stack = await startServiceStack(() => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'claude-via-router' }));
    const sent = await twoTurns(stack, 'claude-via-router');
    expect(sent[1]).toEqual({ role: 'assistant', content: 'Paris.', reasoning_details: DETAILS });
  });

  it('leaves both out for OpenAI, whose assistant messages have no such fields', async () => {
    stack = await startServiceStack({});
    const sent = await twoTurns(stack, 'gpt-4o-mini');
    expect(sent[1]).toEqual({ role: 'assistant', content: 'Paris.' });
  });

  it.each([
    ['reasoning text that is not text', { reasoning: 7 }, 'messages[1].reasoning'],
    ['reasoning details that are not a list', { reasoning_details: { type: 'reasoning.text' } }, 'messages[1].reasoning_details'],
    ['a reasoning detail that is not an object', { reasoning_details: ['opaque'] }, 'messages[1].reasoning_details[0]'],
  ])('refuses %s with 400 naming the field, sending nothing', async (_case, fields, param) => {
    stack = await startServiceStack(() => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'claude-via-router' }));
    const messages = [
      { role: 'user', content: 'Capital of France?' },
      { role: 'assistant', content: 'Paris.', ...fields },
      { role: 'user', content: 'And of Italy?' },
    ] as OpenAI.ChatCompletionMessageParam[];
    const error = await refusal(stack.client.chat.completions.create({ model: 'claude-via-router', messages }));
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ param });
    expect(stack.fake.requests).toHaveLength(0);
  });
});
