import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import type { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/*
 * What a translated answer carries beyond its text and tool calls (the chat message's unmodelled
 * fields) through `serve`'s Responses API, read with the `openai` SDK: images, reasoning text and
 * URL citations as OpenAI's items and parts, whole and streamed; what a `Response` has no place
 * for, left out visibly; and the items it gave, sent back in the next turn's input.
 */

const start = responsesStacks();

const gemini = (fake: FakeProviderServer) => ({
  LLM_PROVIDER: 'gemini',
  GEMINI_API_KEY: 'AIza-serve-secret',
  GEMINI_BASE_URL: fake.geminiBaseUrl,
});

/** A one-pixel PNG, base64. */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

type Output = OpenAI.Responses.ResponseOutputItem;

/** The answer to `ask`, whole or through the SDK's stream helper. */
async function answer(client: OpenAI, ask: { model: string; input: string; store: boolean }, stream: boolean) {
  return stream ? await client.responses.stream(ask).finalResponse() : await client.responses.create(ask);
}

/** The output items the client appends to the next turn's input, as it received them. */
function echoed(output: Output[]): OpenAI.Responses.ResponseInputItem[] {
  return output as OpenAI.Responses.ResponseInputItem[];
}

describe('a translated answer’s images', () => {
  it('are image_generation_call items after the message, whole and streamed, which the next turn takes back', async () => {
    const { client, stack, checker } = await start(gemini);
    stack.fake.setHandler(() => ({ type: 'answer', content: 'A dot.', images: [{ mediaType: 'image/png', data: PIXEL }] }));
    const ask = { model: 'gemini-2.5-flash-image', input: 'Draw a dot.', store: false };
    for (const stream of [false, true]) {
      const first = await answer(client, ask, stream);
      expect(first.output.map((item) => item.type)).toEqual(['message', 'image_generation_call']);
      expect(first.output_text).toBe('A dot.');
      const image = first.output[1];
      expect(image).toEqual({
        id: expect.stringMatching(/^ig_[0-9a-f]{48}$/),
        type: 'image_generation_call',
        status: 'completed',
        result: PIXEL,
      });
      expect(validateOpenAiSchema('ImageGenToolCall', image)).toEqual([]);
      const next = await client.responses.create({
        model: ask.model,
        store: false,
        input: [{ role: 'user', content: 'Draw a dot.' }, ...echoed(first.output), { role: 'user', content: 'Make it blue.' }],
      });
      expect(next.output_text).toBe('A dot.');
      // The image goes back to the model on its own turn, after the text, so that it can edit it.
      const sent = stack.fake.requests.at(-1)?.body as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };
      expect(sent.contents.map((content) => content.role)).toEqual(['user', 'model', 'user']);
      expect(sent.contents[1]?.parts).toEqual([{ text: 'A dot.' }, { inlineData: { mimeType: 'image/png', data: PIXEL } }]);
    }
    await checker.problems();
    expect(checker.eventTypes).toContain('response.image_generation_call.completed');
  });
});

describe('a translated answer’s reasoning text', () => {
  it('is a reasoning item with a reasoning_text part, whole and streamed, which the next turn takes back', async () => {
    const { client, stack, checker } = await start(UPSTREAMS['openai-compatible']!);
    const reasoning = 'France’s capital is Paris.';
    stack.fake.setHandler(() => ({ type: 'answer', content: 'Paris.', reasoning }));
    const ask = { model: 'deepseek-reasoner', input: 'Capital of France?', store: false };
    for (const stream of [false, true]) {
      const first = await answer(client, ask, stream);
      // The reasoning comes first, as OpenAI orders it, whole and streamed (as the model thinks).
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
      const item = first.output.find((output) => output.type === 'reasoning');
      expect(item).toEqual({
        id: expect.stringMatching(/^rs_[0-9a-f]{48}$/),
        type: 'reasoning',
        summary: [],
        content: [{ type: 'reasoning_text', text: reasoning }],
      });
      expect(validateOpenAiSchema('ReasoningItem', item)).toEqual([]);
      const next = await client.responses.create({
        model: ask.model,
        store: false,
        input: [{ role: 'user', content: 'Capital of France?' }, ...echoed(first.output), { role: 'user', content: 'And of Italy?' }],
      });
      expect(next.output_text).toBe('Paris.');
      // The reasoning is answer-only: the provider gets the turns without it.
      const sent = stack.upstreamBodies().at(-1)?.['messages'];
      expect(sent).toEqual([
        { role: 'user', content: 'Capital of France?' },
        { role: 'assistant', content: 'Paris.' },
        { role: 'user', content: 'And of Italy?' },
      ]);
    }
    await checker.problems();
    expect(checker.eventTypes).toEqual(expect.arrayContaining(['response.reasoning_text.delta', 'response.reasoning_text.done']));
  });
});

describe('a translated answer’s URL citations', () => {
  it('are the output_text part’s url_citation annotations, whole and streamed', async () => {
    const { client, stack, checker } = await start(UPSTREAMS['openai-compatible']!);
    const citation = { start_index: 4, end_index: 15, url: 'https://example.com/', title: 'Example' };
    stack.fake.setHandler(() => ({
      type: 'answer',
      content: 'See example.com.',
      messageFields: { annotations: [{ type: 'url_citation', url_citation: citation }] },
    }));
    for (const stream of [false, true]) {
      const response = await answer(client, { model: 'gpt-4o-search-preview', input: 'Where?', store: false }, stream);
      expect(response.output).toHaveLength(1);
      expect(response.output[0]).toMatchObject({
        type: 'message',
        content: [{ type: 'output_text', text: 'See example.com.', annotations: [{ type: 'url_citation', ...citation }] }],
      });
    }
    await checker.problems();
    expect(checker.eventTypes).toContain('response.output_text.annotation.added');
  });
});

describe('a translated answer’s field a Response has no place for', () => {
  it('is left out, logged by name without its value and counted, whole and streamed', async () => {
    const captured = captureLogger('info');
    const { client, stack } = await start(UPSTREAMS['openai-compatible']!, captured.logger);
    const audio = { id: 'audio_1', data: 'UklGRiQAAABXQVZF', expires_at: 1_900_000_000, transcript: 'a transcript no log may hold' };
    stack.fake.setHandler(() => ({ type: 'answer', content: 'Hello.', messageFields: { audio } }));
    for (const stream of [false, true]) {
      const response = await answer(client, { model: 'gpt-4o-audio-preview', input: 'Say hello.', store: false }, stream);
      expect(response.output.map((item) => item.type)).toEqual(['message']);
      expect(response.output_text).toBe('Hello.');
    }
    const warnings = captured.records.filter((record) => String(record['msg']).includes('translated Responses answer'));
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'warn', provider: 'openai-compatible', fields: ['audio'] }),
      expect.objectContaining({ level: 'warn', provider: 'openai-compatible', fields: ['audio'] }),
    ]);
    expect(captured.text()).not.toContain(audio.transcript);
    expect(captured.text()).not.toContain(audio.data);
    const metrics = await (await fetch(new URL('/metrics', stack.baseUrl))).text();
    expect(metrics).toContain('groundwork_responses_dropped_answer_fields_total{provider="openai-compatible",field="audio"} 2');
  });
});
