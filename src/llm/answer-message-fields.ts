import type { AnswerMessage } from './model/chat-completion.js';
import type { AnswerImagePart } from './model/content-part.js';

/**
 * The images an answer made, as an assistant message gives them back (`AssistantMessage.images`):
 * each entry of its `passthrough.images` as an {@link answerImagePart}. Empty when it made none.
 */
export function answerImages(message: AnswerMessage | undefined): AnswerImagePart[] {
  const images = message?.passthrough?.['images'];
  return Array.isArray(images) ? images.flatMap((image: unknown) => answerImagePart(image) ?? []) : [];
}

/**
 * An image as an answer gives it (`{ type: 'image_url', image_url: { url, detail? }, signature? }`,
 * the shape the providers answer images in and clients echo them in) as the image part an
 * assistant message takes back, its `detail` and `signature` kept when it has them; undefined for
 * an entry without a URL.
 */
export function answerImagePart(image: unknown): AnswerImagePart | undefined {
  const { image_url: target, signature } = (image ?? {}) as { image_url?: { url?: unknown; detail?: unknown }; signature?: unknown };
  if (typeof target?.url !== 'string') return undefined;
  const part: AnswerImagePart = { type: 'image', url: target.url };
  if (target.detail === 'auto' || target.detail === 'low' || target.detail === 'high') part.detail = target.detail;
  if (typeof signature === 'string' && signature !== '') part.signature = signature;
  return part;
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
