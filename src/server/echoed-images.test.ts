import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { RecordedRequest } from '../testing/fake-behaviour.js';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.test-helpers.js';
import { refusal, type ServiceStack, startServiceStack } from './service-stack.test-helpers.js';

/*
 * A client of `serve` appends each answer to the conversation as it got it, so an image model's
 * `message.images` come back on the next request's assistant message. Gemini takes them back as
 * the model turn's inline data; the other providers' assistant turns cannot hold images.
 */

/** A 1×1 PNG, and a second picture (any base64 does for the fake). */
const DOT = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const RED_DOT = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgI=';

const geminiEnv = (fake: FakeProviderServer) => ({
  LLM_PROVIDER: 'gemini',
  GEMINI_API_KEY: 'AIza-echo-secret',
  GEMINI_BASE_URL: fake.geminiBaseUrl,
});

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The `contents` Gemini received in `request`. */
function contentsOf(request: RecordedRequest | undefined): unknown[] | undefined {
  return (request?.body as { contents?: unknown[] } | undefined)?.contents;
}

/** An assistant message as a client echoes an image answer (the SDK's types have no `images`). */
function echoedAnswer(images: unknown): OpenAI.ChatCompletionAssistantMessageParam {
  return { role: 'assistant', content: 'A dot.', images } as OpenAI.ChatCompletionAssistantMessageParam;
}

describe('serve in front of a Gemini image model, the answer echoed', () => {
  it('sends the images back as the model turn’s inline data, after its text, so the next turn can edit them', async () => {
    stack = await startServiceStack(geminiEnv);
    stack.fake.setHandler(() => ({ type: 'answer', content: 'A dot.', images: [{ mediaType: 'image/png', data: DOT }] }));
    const model = 'gemini-2.5-flash-image';
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Draw a dot.' }];
    const first = await stack.client.chat.completions.create({ model, messages });
    messages.push(first.choices[0]!.message, { role: 'user', content: 'Now make it red.' });
    const second = await stack.client.chat.completions.create({ model, messages });
    expect(second.choices[0]?.message.content).toBe('A dot.');
    expect(contentsOf(stack.fake.requests[1])).toEqual([
      { role: 'user', parts: [{ text: 'Draw a dot.' }] },
      { role: 'model', parts: [{ text: 'A dot.' }, { inlineData: { mimeType: 'image/png', data: DOT } }] },
      { role: 'user', parts: [{ text: 'Now make it red.' }] },
    ]);
  });

  it('takes back a streamed answer’s images, as the SDK’s stream helper assembles them, in their order', async () => {
    stack = await startServiceStack(geminiEnv);
    stack.fake.setHandler(() => ({
      type: 'answer',
      content: 'Two dots.',
      images: [
        { mediaType: 'image/png', data: DOT },
        { mediaType: 'image/jpeg', data: RED_DOT },
      ],
    }));
    const model = 'gemini-2.5-flash-image';
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Draw two dots.' }];
    const first = await stack.client.chat.completions.stream({ model, messages }).finalChatCompletion();
    messages.push(first.choices[0]!.message, { role: 'user', content: 'Now only the red one.' });
    await stack.client.chat.completions.stream({ model, messages }).finalChatCompletion();
    expect(contentsOf(stack.fake.requests[1])).toEqual([
      { role: 'user', parts: [{ text: 'Draw two dots.' }] },
      {
        role: 'model',
        parts: [
          { text: 'Two dots.' },
          { inlineData: { mimeType: 'image/png', data: DOT } },
          { inlineData: { mimeType: 'image/jpeg', data: RED_DOT } },
        ],
      },
      { role: 'user', parts: [{ text: 'Now only the red one.' }] },
    ]);
  });

  it('takes an answer of images alone, with the position some servers number them by', async () => {
    stack = await startServiceStack(geminiEnv);
    const images = [{ type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}` }, index: 0 }];
    const messages = [
      { role: 'user', content: 'Draw a dot, say nothing.' },
      { role: 'assistant', content: '', images },
      { role: 'user', content: 'Now make it red.' },
    ] as OpenAI.ChatCompletionMessageParam[];
    await stack.client.chat.completions.create({ model: 'gemini-2.5-flash-image', messages });
    expect(contentsOf(stack.fake.requests[0])).toEqual([
      { role: 'user', parts: [{ text: 'Draw a dot, say nothing.' }] },
      { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: DOT } }] },
      { role: 'user', parts: [{ text: 'Now make it red.' }] },
    ]);
  });

  it.each([
    ['a remote URL', [{ type: 'image_url', image_url: { url: 'https://example.com/dot.png' } }], 'messages[1].images[0].image_url.url'],
    [
      'a data URL of another media',
      [{ type: 'image_url', image_url: { url: 'data:text/plain;base64,aGk=' } }],
      'messages[1].images[0].image_url.url',
    ],
    ['a content part’s shape', [{ type: 'image', url: `data:image/png;base64,${DOT}` }], 'messages[1].images[0].type'],
    [
      'a key the answer never has',
      [{ type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}` }, alt: 'a dot' }],
      'messages[1].images[0].alt',
    ],
    ['something other than a list', { type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}` } }, 'messages[1].images'],
  ])('refuses %s in images with 400 naming the field, sending nothing', async (_case, images, param) => {
    stack = await startServiceStack(geminiEnv);
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Draw a dot.' },
      echoedAnswer(images),
      { role: 'user', content: 'Now make it red.' },
    ];
    const error = await refusal(stack.client.chat.completions.create({ model: 'gemini-2.5-flash-image', messages }));
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ param });
    expect(stack.fake.requests).toHaveLength(0);
  });
});

/** An image a Gemini 3 image model signs, as `serve` answers it and the client echoes it. */
function signedImage(mediaType: string, data: string, signature: unknown): Record<string, unknown> {
  return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` }, signature };
}

describe('serve in front of a Gemini 3 image model, its signed images echoed', () => {
  const model = 'gemini-3.1-flash-image-preview';
  const signedAnswer = {
    type: 'answer',
    content: 'Two dots.',
    images: [
      { mediaType: 'image/png', data: DOT, signature: 'sig-dot' },
      { mediaType: 'image/jpeg', data: RED_DOT, signature: 'sig-red-dot' },
    ],
  } as const;
  /** The model turn Gemini must get back: each image on its own part with the signature it came with. */
  const signedModelTurn = {
    role: 'model',
    parts: [
      { text: 'Two dots.' },
      { inlineData: { mimeType: 'image/png', data: DOT }, thoughtSignature: 'sig-dot' },
      { inlineData: { mimeType: 'image/jpeg', data: RED_DOT }, thoughtSignature: 'sig-red-dot' },
    ],
  };

  it('answers each image with its thought signature and sends it back on the same inline data part', async () => {
    stack = await startServiceStack(geminiEnv);
    stack.fake.setHandler(() => signedAnswer);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Draw two dots.' }];
    const first = await stack.client.chat.completions.create({ model, messages });
    expect((first.choices[0]!.message as { images?: unknown }).images).toEqual([
      signedImage('image/png', DOT, 'sig-dot'),
      signedImage('image/jpeg', RED_DOT, 'sig-red-dot'),
    ]);
    messages.push(first.choices[0]!.message, { role: 'user', content: 'Now only the red one.' });
    await stack.client.chat.completions.create({ model, messages });
    expect(contentsOf(stack.fake.requests[1])).toEqual([
      { role: 'user', parts: [{ text: 'Draw two dots.' }] },
      signedModelTurn,
      { role: 'user', parts: [{ text: 'Now only the red one.' }] },
    ]);
  });

  it('streams each image with its thought signature, which the next turn sends back', async () => {
    stack = await startServiceStack(geminiEnv);
    stack.fake.setHandler(() => signedAnswer);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Draw two dots.' }];
    const first = await stack.client.chat.completions.stream({ model, messages }).finalChatCompletion();
    messages.push(first.choices[0]!.message, { role: 'user', content: 'Now only the red one.' });
    await stack.client.chat.completions.stream({ model, messages }).finalChatCompletion();
    expect(contentsOf(stack.fake.requests[1])?.[1]).toEqual(signedModelTurn);
  });

  it.each([
    ['a number', 42],
    ['an object', { value: 'sig-dot' }],
  ])('refuses %s as an image’s signature with 400 naming the field, sending nothing', async (_case, signature) => {
    stack = await startServiceStack(geminiEnv);
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Draw a dot.' },
      echoedAnswer([signedImage('image/png', DOT, signature)]),
      { role: 'user', content: 'Now make it red.' },
    ];
    const error = await refusal(stack.client.chat.completions.create({ model, messages }));
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ param: 'messages[1].images[0].signature' });
    expect(stack.fake.requests).toHaveLength(0);
  });
});

describe('serve in front of an OpenAI-compatible server, its image answer echoed', () => {
  it('sends the images back on the assistant message as the server answered them, `detail` included', async () => {
    stack = await startServiceStack(() => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'flux-edit' }));
    stack.fake.enqueue({ type: 'answer', content: 'A red dot.' });
    const images = [
      { type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}`, detail: 'auto' }, index: 0 },
      { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${RED_DOT}` }, index: 1 },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Draw a dot.' },
      echoedAnswer(images),
      { role: 'user', content: 'Now make it red.' },
    ];
    const answer = await stack.client.chat.completions.create({ model: 'flux-edit', messages });
    expect(answer.choices[0]?.message.content).toBe('A red dot.');
    const sent = (stack.fake.requests[0]?.body as { messages?: unknown[] } | undefined)?.messages;
    expect(sent?.[1]).toEqual({
      role: 'assistant',
      content: 'A dot.',
      images: [
        { type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}`, detail: 'auto' } },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${RED_DOT}` } },
      ],
    });
  });

  it('leaves a Gemini image’s signature out, as it leaves a tool call’s: only Gemini reads it', async () => {
    stack = await startServiceStack(() => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'flux-edit' }));
    stack.fake.enqueue({ type: 'answer', content: 'A red dot.' });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Draw a dot.' },
      echoedAnswer([signedImage('image/png', DOT, 'sig-dot')]),
      { role: 'user', content: 'Now make it red.' },
    ];
    await stack.client.chat.completions.create({ model: 'flux-edit', messages });
    const sent = (stack.fake.requests[0]?.body as { messages?: unknown[] } | undefined)?.messages;
    expect(sent?.[1]).toEqual({
      role: 'assistant',
      content: 'A dot.',
      images: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}` } }],
    });
  });
});

/** Providers whose assistant turns cannot hold images, and how `serve` reaches each one's fake. */
const WITHOUT_IMAGES: Array<[string, (fake: FakeProviderServer) => Record<string, string>]> = [
  ['openai', () => ({})],
  [
    'azure',
    (fake) => ({
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_API_KEY: 'azure-echo-secret',
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'chat-deploy',
    }),
  ],
  ['anthropic', () => ({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-echo-secret' })],
  [
    'bedrock',
    (fake) => ({
      LLM_PROVIDER: 'bedrock',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAECHO',
      AWS_SECRET_ACCESS_KEY: 'aws-echo-secret',
      BEDROCK_BASE_URL: fake.bedrockEndpoint,
    }),
  ],
];

describe.each(WITHOUT_IMAGES)('serve in front of %s, an image answer echoed', (provider, env) => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'Draw a dot.' },
    echoedAnswer([{ type: 'image_url', image_url: { url: `data:image/png;base64,${DOT}` } }]),
    { role: 'user', content: 'What did you draw?' },
  ];

  it('refuses the images with 400 naming them and the provider by default, sending nothing', async () => {
    stack = await startServiceStack(env);
    const error = await refusal(stack.client.chat.completions.create({ model: 'any', messages }));
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ param: 'messages[1].images' });
    expect(error.message).toContain(`"${provider}"`);
    expect(error.message).toContain('LLM_DROP_UNSUPPORTED_PARAMS=true');
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('drops them with LLM_DROP_UNSUPPORTED_PARAMS=true: the text goes on, the drop logged once and counted', async () => {
    const captured = captureLogger('info');
    stack = await startServiceStack((fake) => ({ ...env(fake), LLM_DROP_UNSUPPORTED_PARAMS: 'true' }), undefined, captured.logger);
    stack.fake.enqueue({ type: 'answer', content: 'A dot.' });
    const answer = await stack.client.chat.completions.create({ model: 'any', messages });
    expect(answer.choices[0]?.message.content).toBe('A dot.');
    const sent = JSON.stringify(stack.fake.requests[0]?.body);
    expect(sent).toContain('A dot.');
    expect(sent).not.toContain(DOT);
    const drops = captured.records.filter((record) => String(record['msg']).startsWith('Dropped'));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ provider, fields: ['messages[1].images'] });
    const metrics = parsePrometheusText(await (await fetch(new URL('/metrics', stack.baseUrl))).text());
    expect(sampleValue(metrics, 'groundwork_llm_dropped_params_total', { provider, field: 'messages[].images' })).toBe(1);
  });
});
