import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmProviderName } from '../../config/variables.js';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { providerEnv, testConfig } from '../llm.test-helpers.js';
import type { ChatMessage, ChatRequest, LlmProvider } from '../types.js';
import { createProvider } from './create-provider.js';

const base: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Hi' }] };
const withParts = (...content: Extract<ChatMessage, { role: 'user' }>['content'] & unknown[]): ChatRequest => ({
  model: '',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content },
  ],
});

/** A request with one field Anthropic cannot honour, and the name it must give. */
const ANTHROPIC_CANNOT: Array<[string, ChatRequest]> = [
  ['logit_bias', { ...base, logitBias: { '50256': -100 } }],
  ['logprobs', { ...base, logprobs: true }],
  ['top_logprobs', { ...base, topLogprobs: 3 }],
  ['n', { ...base, n: 2 }],
  ['presence_penalty', { ...base, presencePenalty: 0.5 }],
  ['frequency_penalty', { ...base, frequencyPenalty: 0.5 }],
  ['seed', { ...base, seed: 1 }],
  ['store', { ...base, store: true }],
  ['metadata', { ...base, metadata: { team: 'a' } }],
  ['service_tier', { ...base, serviceTier: 'flex' }],
  ['verbosity', { ...base, verbosity: 'low' }],
  ['modalities', { ...base, passthrough: { modalities: ['text', 'audio'] } }],
  ['web_search_options', { ...base, passthrough: { web_search_options: {} } }],
  ['messages[1].content[1]', withParts({ type: 'text', text: 'Listen' }, { type: 'audio', data: 'UklGRg==', format: 'wav' })],
  ['messages[1].content[0]', withParts({ type: 'file', fileId: 'file-123' })],
  ['messages[1].content[0]', withParts({ type: 'file', data: 'data:application/zip;base64,UEs=' })],
  ['messages[1].content[0]', withParts({ type: 'image', url: 'data:image/bmp;base64,Qk0=' })],
  ['messages[0].name', { ...base, messages: [{ role: 'user', content: 'Hi', name: 'ada' }] }],
  [
    'messages[1].audio',
    {
      ...base,
      messages: [...base.messages, { role: 'assistant', content: 'Hello', audio: { id: 'audio_1' } }, { role: 'user', content: 'Again' }],
    },
  ],
  [
    'messages[1].tool_calls[0].function.arguments',
    {
      ...base,
      messages: [
        ...base.messages,
        { role: 'assistant', toolCalls: [{ id: 'toolu_1', type: 'function', name: 'f', arguments: '[1, 2]' }] },
        { role: 'tool', toolCallId: 'toolu_1', content: 'ok' },
      ],
    },
  ],
  ['reasoning_effort', { ...base, reasoningEffort: 'low', maxTokens: 1000 }],
  ['temperature', { ...base, reasoningEffort: 'low', temperature: 0.2 }],
  ['tool_choice', { ...base, reasoningEffort: 'low', tools: [{ type: 'function', name: 'f' }], toolChoice: 'required' }],
];

/** Requests Anthropic takes whole, close to the ones it cannot. */
const ANTHROPIC_CAN: Array<[string, ChatRequest]> = [
  ['n: 1', { ...base, n: 1 }],
  ['logprobs: false', { ...base, logprobs: false }],
  ['service_tier: auto', { ...base, serviceTier: 'auto' }],
  [
    'a PDF, a JPEG and an https image',
    withParts(
      { type: 'file', data: 'data:application/pdf;base64,JVBERi0=' },
      { type: 'image', url: 'data:image/jpeg;base64,/9j/' },
      { type: 'image', url: 'https://example.com/a.png', detail: 'low' },
    ),
  ],
  ['thinking at temperature 1', { ...base, reasoningEffort: 'high', temperature: 1 }],
];

describe.each<LlmProviderName>(['openai', 'azure', 'openai-compatible', 'anthropic'])('%s provider: unsupported fields', (name) => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;

  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
    provider = createProvider(name, testConfig(providerEnv(name, fake)));
  });
  afterAll(async () => {
    await fake.close();
  });

  const echoed: ChatRequest = {
    ...base,
    messages: [
      ...base.messages,
      { role: 'assistant', content: 'A dot.', images: [{ type: 'image', url: 'data:image/png;base64,iVBORw0K' }] },
      { role: 'user', content: 'Now make it red.' },
      { role: 'assistant', content: 'Nothing to draw.', images: [] },
    ],
  };
  if (name === 'openai-compatible') {
    it('takes the images an earlier answer made: compatible servers answer them, and take them back', async () => {
      expect(await provider.unsupportedFields(echoed)).toEqual([]);
    });
  } else {
    it('names the images an earlier answer made: its assistant turns cannot hold them', async () => {
      expect(await provider.unsupportedFields(echoed)).toEqual(['messages[1].images']);
    });
  }

  if (name === 'anthropic') {
    it.each(ANTHROPIC_CANNOT)('names %s', async (field, request) => {
      expect(await provider.unsupportedFields(request)).toEqual([field]);
    });
    it.each(ANTHROPIC_CAN)('takes %s', async (_case, request) => {
      expect(await provider.unsupportedFields(request)).toEqual([]);
    });
    it('names every field of a request at once', async () => {
      expect(await provider.unsupportedFields({ ...base, seed: 1, n: 3, passthrough: { audio: {}, prediction: {} } })).toEqual([
        'seed',
        'n',
        'audio',
        'prediction',
      ]);
    });
  } else {
    it.each(ANTHROPIC_CANNOT)('sends %s: the OpenAI wire has a place for it', async (_field, request) => {
      expect(await provider.unsupportedFields(request)).toEqual([]);
    });
  }
});
