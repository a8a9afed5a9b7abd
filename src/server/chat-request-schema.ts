import { z } from 'zod';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

/** OpenAI message content: a string, or text parts (other part types are not supported). */
const content = z.union([z.string(), z.array(textPart).min(1)], {
  error: 'must be a string or an array of { type: "text", text } parts (images and audio are not supported)',
});

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: 'must be "system", "developer", "user" or "assistant" (tool messages are not supported)',
  }),
  content,
  name: z.string().optional(),
});

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const unsupported = (what: string) => z.undefined({ error: `not supported by this service (${what})` }).optional();

/**
 * The body of `POST /v1/chat/completions`: OpenAI's fields that Groundwork's provider-neutral
 * request can carry. Other fields are ignored, except those whose silent omission would change
 * the answer (`tools`, `functions`, `n` above 1, `logprobs`), which are refused.
 */
export const chatCompletionBodySchema = z.object({
  model: z.string().min(1, 'must name a model'),
  messages: z.array(message).min(1, 'must hold at least one message'),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.number().int().nullish(),
  response_format: responseFormat.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  n: z.literal(1, { error: 'must be 1: one choice per request' }).nullish(),
  logprobs: z.literal(false, { error: 'not supported by this service' }).nullish(),
  tools: unsupported('tool calls'),
  functions: unsupported('function calls'),
  tool_choice: unsupported('tool calls'),
});

/** A validated `POST /v1/chat/completions` body. */
export type ChatCompletionBody = z.infer<typeof chatCompletionBodySchema>;
