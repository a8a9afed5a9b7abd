import type { AnswerMessage } from './model/chat-completion.js';
import type { AnswerImagePart } from './model/content-part.js';

/**
 * The images an answer made, as an assistant message gives them back (`AssistantMessage.images`):
 * each entry of its `passthrough.images` (`{ type: 'image_url', image_url: { url }, signature? }`,
 * the shape the providers answer them in) as an image part with its signature. Empty when it made
 * none.
 */
export function answerImages(message: AnswerMessage | undefined): AnswerImagePart[] {
  const images = message?.passthrough?.['images'];
  if (!Array.isArray(images)) return [];
  return images.flatMap((image: unknown): AnswerImagePart[] => {
    const { image_url: target, signature } = (image ?? {}) as { image_url?: { url?: unknown; detail?: unknown }; signature?: unknown };
    if (typeof target?.url !== 'string') return [];
    const part: AnswerImagePart = { type: 'image', url: target.url };
    if (target.detail === 'auto' || target.detail === 'low' || target.detail === 'high') part.detail = target.detail;
    if (typeof signature === 'string' && signature !== '') part.signature = signature;
    return [part];
  });
}

/**
 * An OpenAI-compatible server's `reasoning_details` of an answer (OpenRouter's reasoning state), as
 * an assistant message gives them back (`AssistantMessage.reasoningDetails`); empty without them.
 */
export function answerReasoningDetails(message: AnswerMessage | undefined): Record<string, unknown>[] {
  const details = message?.passthrough?.['reasoning_details'];
  if (!Array.isArray(details)) return [];
  return details.filter(
    (detail): detail is Record<string, unknown> => typeof detail === 'object' && detail !== null && !Array.isArray(detail),
  );
}
