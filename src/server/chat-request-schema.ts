import { z } from 'zod';
import { LLM_PROVIDERS } from '../config/variables.js';

/*
 * The body of `POST /v1/chat/completions`, as OpenAI's `CreateChatCompletionRequest` describes it.
 * Messages, content parts and tools are strict: a key Groundwork cannot carry is refused by name
 * rather than dropped. Top-level fields it does not model are kept (see `KNOWN_FIELDS`) and sent on
 * as `passthrough`.
 */

const name = z.string().nullish();

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({
    url: z.string().regex(/^(https?:|data:image\/)/, 'must be an http(s) URL or a data:image/…;base64 URL'),
    detail: z.enum(['auto', 'low', 'high']).nullish(),
  }),
});
const audioPart = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({ data: z.string().min(1, 'must hold base64 audio'), format: z.enum(['wav', 'mp3']) }),
});
const filePart = z.strictObject({
  type: z.literal('file'),
  file: z
    .strictObject({ file_id: z.string().nullish(), file_data: z.string().nullish(), filename: z.string().nullish() })
    .refine((file) => file.file_id != null || file.file_data != null, 'needs file_id or file_data'),
});
const refusalPart = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });

const partTypes = (allowed: string) => ({ error: `must be a content part of type ${allowed}` });
const contentError = { error: 'must be a string or a non-empty array of content parts' };
const textContent = z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart], partTypes('"text"'))).min(1)], contentError);
const userContent = z.union(
  [
    z.string(),
    z
      .array(
        z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart], partTypes('"text", "image_url", "input_audio" or "file"')),
      )
      .min(1),
  ],
  contentError,
);
const assistantContent = z.union(
  [z.string(), z.array(z.discriminatedUnion('type', [textPart, refusalPart], partTypes('"text" or "refusal"'))).min(1)],
  contentError,
);

/*
 * Clients append the answer they received to the conversation as it is, so an assistant message
 * may echo answer-only fields: `annotations` (citations of what the content already says),
 * `reasoning_content` and `reasoning` (the reasoning's text, under the names DeepSeek, vLLM and
 * OpenRouter give it; what the provider needs of it is in `reasoning_blocks` or `reasoning_details`),
 * `function_call: null`, and the SDK helpers' `parsed` / `parsed_arguments` (their own parse of
 * the content and arguments). They carry nothing the model reads, so they are accepted and not sent on.
 */
const echoedAnswerFields = {
  annotations: z.array(z.unknown()).nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  function_call: z.null({ error: 'function_call is deprecated and not supported; use tool_calls' }).optional(),
  parsed: z.unknown().optional(),
};

/*
 * An image an image model made, as Groundwork answers it (`message.images`, the shape
 * OpenAI-compatible servers answer images in) and the client echoes it: a `data:` URL of its bytes,
 * perhaps with the position some of those servers number it by, which the list's order already
 * gives, the `detail` some of them add, and Groundwork's `signature` extension (Gemini's
 * `thoughtSignature` of the image). Gemini takes it back as the model turn's inline data, with its
 * signature, an OpenAI-compatible server as it answered it.
 */
const answerImage = z.strictObject({
  type: z.literal('image_url', { error: 'must be "image_url", as the answer gave it' }),
  image_url: z.strictObject({
    url: z.string().regex(/^data:image\/[\w.+-]+;base64,/, 'must be a data:image/…;base64 URL, as the answer gave it'),
    detail: z.enum(['auto', 'low', 'high']).nullish(),
  }),
  index: z.number().int().min(0).optional(),
  /** Groundwork's extension: the provider's signature of the image, as the answer gave it. */
  signature: z.string().nullish(),
});

const toolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function', { error: 'must be "function" (custom tools are not supported)' }),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string(), parsed_arguments: z.unknown().optional() }),
  /** Groundwork's extension: the provider's signature of the call, as the answer gave it. */
  signature: z.string().nullish(),
});

const llmProviderName = z.enum(LLM_PROVIDERS);

/** Groundwork's extension: the reasoning blocks an answer gave (`reasoning_blocks`), sent back as they were. */
const reasoningBlock = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('thinking'), provider: llmProviderName, text: z.string(), signature: z.string().optional() }),
  z.strictObject({ type: z.literal('redacted'), provider: llmProviderName, data: z.string() }),
]);

const message = z.discriminatedUnion(
  'role',
  [
    z.strictObject({ role: z.literal('system'), content: textContent, name }),
    z.strictObject({ role: z.literal('developer'), content: textContent, name }),
    z.strictObject({ role: z.literal('user'), content: userContent, name }),
    z
      .strictObject({
        role: z.literal('assistant'),
        content: assistantContent.nullish(),
        name,
        tool_calls: z.array(toolCall).nullish(),
        refusal: z.string().nullish(),
        // An echoed audio answer also holds its data and transcript; the model needs only its id.
        audio: z.looseObject({ id: z.string() }).nullish(),
        reasoning_blocks: z.array(reasoningBlock).nullish(),
        images: z.array(answerImage).nullish(),
        // An OpenAI-compatible server's (OpenRouter's) reasoning state, which it asks to have back.
        reasoning_details: z.array(z.record(z.string(), z.unknown())).nullish(),
        ...echoedAnswerFields,
      })
      .refine(
        (assistant) =>
          assistant.content != null ||
          (assistant.tool_calls?.length ?? 0) > 0 ||
          assistant.refusal != null ||
          assistant.audio != null ||
          (assistant.images?.length ?? 0) > 0,
        'an assistant message needs content, tool_calls, a refusal, audio or images',
      ),
    z.strictObject({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: textContent }),
  ],
  { error: 'must be "system", "developer", "user", "assistant" or "tool" (function messages are not supported; use tool messages)' },
);

const tool = z.strictObject({
  type: z.literal('function', { error: 'must be "function" (custom tools are not supported)' }),
  function: z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1–64 characters of a-z, A-Z, 0-9, _ and -'),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string().min(1) }) }),
  ],
  {
    error:
      'must be "none", "auto", "required" or { type: "function", function: { name } } (allowed_tools and custom tools are not supported)',
  },
);

const responseFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z.string().min(1).max(64),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** The top-level fields Groundwork models; every other field of a body is forwarded verbatim. */
export const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'seed',
  'response_format',
  'stream',
  'stream_options',
  'n',
  'logprobs',
  'top_logprobs',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'user',
  'metadata',
  'store',
  'service_tier',
  'reasoning_effort',
  'verbosity',
]);

/** Longest model name a request may send, in characters (a Bedrock inference-profile ARN is about 110). */
export const MODEL_NAME_MAX_LENGTH = 256;

/** A validated `POST /v1/chat/completions` body; unmodelled top-level fields are kept. */
export const chatCompletionBodySchema = z.looseObject({
  model: z.string().min(1, 'must name a model').max(MODEL_NAME_MAX_LENGTH, `must be at most ${MODEL_NAME_MAX_LENGTH} characters`),
  messages: z.array(message).min(1, 'must hold at least one message'),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.number().int().nullish(),
  response_format: responseFormat.nullish(),
  stream: z.boolean().nullish(),
  // `include_obfuscation` and later options change nothing in what the service answers.
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  service_tier: z.string().nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  verbosity: z.enum(['low', 'medium', 'high']).nullish(),
});

/** A validated `POST /v1/chat/completions` body. */
export type ChatCompletionBody = z.infer<typeof chatCompletionBodySchema>;

/** One message of a validated body. */
export type BodyMessage = ChatCompletionBody['messages'][number];
