import type { ChatRequest } from '../../types.js';

/**
 * The fields of `request` the OpenAI wire cannot carry, by their OpenAI wire names: only the images
 * an earlier answer made (`messages[i].images`, Gemini's image models'), which OpenAI's assistant
 * message has no place for. Every other field has an OpenAI wire form (unmodelled ones travel in
 * `passthrough`); the upstream itself answers 400 to what it lacks.
 */
export function openAiUnsupportedFields(request: ChatRequest): string[] {
  const fields: string[] = [];
  request.messages.forEach((message, i) => {
    if (message.role === 'assistant' && message.images !== undefined && message.images.length > 0) fields.push(`messages[${i}].images`);
  });
  return fields;
}
