import { z } from 'zod';
import { LlmRequestError } from './llm-errors.js';
import type { ChatRequest } from './types.js';

const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

const requestSchema = z.object({
  model: z.string().min(1, 'must name a model'),
  messages: z.array(message).min(1, 'must not be empty'),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().positive().optional(),
  stop: z.array(z.string()).max(4).optional(),
  seed: z.number().int().optional(),
});

/** Checks a request before it goes anywhere; throws {@link LlmRequestError} listing every problem. */
export function validateRequest(request: ChatRequest): void {
  const result = requestSchema.safeParse(request);
  if (result.success) return;
  throw new LlmRequestError(result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`));
}
