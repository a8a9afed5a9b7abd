import { z } from 'zod';
import { LlmRequestError } from './llm-errors.js';
import { isPlainRequest } from './plain-request.js';
import type { ChatRequest } from './types.js';

const text = z.object({ type: z.literal('text'), text: z.string() });
const image = z.object({
  type: z.literal('image'),
  url: z.string().regex(/^(https?:|data:image\/)/, 'must be an http(s) URL or a data:image/… URL'),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
/** An image a model made, given back on its assistant message: inline, as the answer gave it. */
const answerImage = z.object({
  type: z.literal('image'),
  url: z.string().regex(/^data:image\/[\w.+-]+;base64,/, 'must be a data:image/…;base64 URL, as the answer gave it'),
  signature: z.string().optional(),
});
const audio = z.object({ type: z.literal('audio'), data: z.string().min(1), format: z.enum(['wav', 'mp3']) });
const file = z
  .object({ type: z.literal('file'), fileId: z.string().optional(), data: z.string().optional(), filename: z.string().optional() })
  .refine((part) => part.fileId !== undefined || part.data !== undefined, 'a file part needs fileId or data');
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });
const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  name: z.string().min(1),
  arguments: z.string(),
  signature: z.string().optional(),
});
const name = z.string().optional();
const reasoningBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('thinking'), provider: z.string(), text: z.string(), signature: z.string().optional() }),
  z.object({ type: z.literal('redacted'), provider: z.string(), data: z.string() }),
]);

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(text)]), name }),
  z.object({ role: z.literal('developer'), content: z.union([z.string(), z.array(text)]), name }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(z.union([text, image, audio, file])).min(1)]), name }),
  z
    .object({
      role: z.literal('assistant'),
      content: z.union([z.string(), z.array(z.union([text, refusal])), z.null()]).optional(),
      name,
      toolCalls: z.array(toolCall).optional(),
      refusal: z.string().nullable().optional(),
      audio: z.object({ id: z.string() }).nullable().optional(),
      reasoning: z.array(reasoningBlock).optional(),
      images: z.array(answerImage).optional(),
      reasoningDetails: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .refine(
      (assistant) =>
        (assistant.content !== undefined && assistant.content !== null) ||
        (assistant.toolCalls?.length ?? 0) > 0 ||
        typeof assistant.refusal === 'string' ||
        assistant.audio != null ||
        (assistant.images?.length ?? 0) > 0,
      'an assistant message needs content, tool calls, a refusal, audio or images',
    ),
  z.object({
    role: z.literal('tool'),
    toolCallId: z.string().min(1),
    content: z.union([z.string(), z.array(text)]),
    isError: z.boolean().optional(),
  }),
]);

const tool = z.object({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1–64 characters of a-z, A-Z, 0-9, _ and -'),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().optional(),
});

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1, 'must name the schema'),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().optional(),
    description: z.string().optional(),
  }),
]);

/**
 * The schema every request passes (exported for the plain-request check’s tests). A field it does
 * not know is refused: no adapter would send it, so the call would go out without it. @internal
 */
export const requestSchema = z
  .strictObject({
    model: z.string().min(1, 'must name a model'),
    messages: z.array(message).min(1, 'must not be empty'),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    maxTokens: z.number().int().positive().optional(),
    stop: z.array(z.string()).max(4).optional(),
    seed: z.number().int().optional(),
    responseFormat: responseFormat.optional(),
    tools: z.array(tool).optional(),
    toolChoice: z
      .union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), name: z.string().min(1) })])
      .optional(),
    parallelToolCalls: z.boolean().optional(),
    n: z.number().int().min(1).max(128).optional(),
    logprobs: z.boolean().optional(),
    topLogprobs: z.number().int().min(0).max(20).optional(),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    logitBias: z.record(z.string(), z.number().min(-100).max(100)).optional(),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    store: z.boolean().optional(),
    serviceTier: z.string().optional(),
    reasoningEffort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).optional(),
    verbosity: z.enum(['low', 'medium', 'high']).optional(),
    passthrough: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((request, context) => {
    const choice = request.toolChoice;
    if (choice !== undefined && choice !== 'none' && choice !== 'auto' && (request.tools?.length ?? 0) === 0) {
      context.addIssue({ code: 'custom', path: ['toolChoice'], message: 'needs tools to choose from' });
    }
    if (typeof choice === 'object' && request.tools !== undefined && !request.tools.some((tool) => tool.name === choice.name)) {
      context.addIssue({ code: 'custom', path: ['toolChoice', 'name'], message: `names no tool of the request ("${choice.name}")` });
    }
    if (request.topLogprobs !== undefined && request.logprobs !== true) {
      context.addIssue({ code: 'custom', path: ['topLogprobs'], message: 'needs logprobs: true' });
    }
  });

/** Checks a request before it goes anywhere; throws {@link LlmRequestError} listing every problem. */
export function validateRequest(request: ChatRequest): void {
  if (isPlainRequest(request)) return;
  const result = requestSchema.safeParse(request);
  if (result.success) return;
  throw new LlmRequestError(result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`));
}
