import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { REASONING_TEXT_FIELDS } from '../model/reasoning-text.js';
import type { ChatCompletion } from '../types.js';

/**
 * What a translated answer carries beyond its text, refusal and tool calls, read from the first
 * choice's unmodelled message fields (`AnswerMessage.passthrough`) and shaped for a `Response`.
 */
export interface AnswerExtras {
  /**
   * The model's reasoning as text: `reasoning_content`, as DeepSeek, vLLM, Gemini's thoughts and
   * Anthropic's thinking give it, or `reasoning`, the name OpenRouter and newer vLLM give it.
   */
  reasoning: string | undefined;
  /** The images the model made (`images`, as `data:` URLs), each as its base64 bytes. */
  images: string[];
  /** The text's URL citations (`annotations`), in the Responses API's flat shape. */
  annotations: Record<string, unknown>[];
  /** The fields a `Response` has no place for, by name, to be reported by {@link reportDroppedAnswerFields}. */
  dropped: string[];
}

/** Where a translation reports the answer fields it left out. */
export interface AnswerFieldReport {
  logger?: Logger | undefined;
  metrics?: GroundworkMetrics | undefined;
}

/** A `data:` URL of base64 bytes: its media type and the bytes. */
const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/**
 * The answer's extras: `reasoning_content`, `images` and `annotations` where a `Response` has a
 * place for them, every other field (and any of these in a shape that cannot be carried) named in
 * `dropped`. Annotations need the text they point into: an answer without text drops them.
 */
export function answerExtras(completion: ChatCompletion): AnswerExtras {
  const extras: AnswerExtras = { reasoning: undefined, images: [], annotations: [], dropped: [] };
  // A hand-made answer (a ChatPort of an application's own) may come without its choices.
  const passthrough = completion.choices?.[0]?.message.passthrough ?? {};
  const hasText = completion.refusal === undefined && completion.content !== '';
  for (const [field, value] of Object.entries(passthrough)) {
    if (value === undefined || value === null) continue;
    let kept = false;
    if (REASONING_TEXT_FIELDS.has(field)) {
      // Servers that send both send the same text under the two names: one reasoning item carries it.
      kept = typeof value === 'string' && (extras.reasoning === undefined || value === '' || value === extras.reasoning);
      if (kept && value !== '') extras.reasoning = value as string;
    } else if (field === 'images') {
      const images = Array.isArray(value) ? value.map(imageBytes) : [undefined];
      kept = images.every((image) => image !== undefined);
      if (kept) extras.images = images as string[];
    } else if (field === 'annotations') {
      const annotations = Array.isArray(value) ? value.map(urlCitation) : [undefined];
      // An empty list (OpenAI sends one with every answer) says nothing, with or without text.
      kept = annotations.length === 0 || (hasText && annotations.every((annotation) => annotation !== undefined));
      if (kept) extras.annotations = annotations as Record<string, unknown>[];
    }
    if (!kept) extras.dropped.push(field);
  }
  return extras;
}

/** An image of `message.images` (`{ type: 'image_url', image_url: { url: 'data:…;base64,…' } }`) as its base64 bytes. */
function imageBytes(image: unknown): string | undefined {
  const url = (image as { image_url?: { url?: unknown } } | null)?.image_url?.url;
  if (typeof url !== 'string') return undefined;
  return DATA_URL.exec(url)?.[2];
}

/** A chat `url_citation` annotation (`{ type, url_citation: { start_index, end_index, url, title } }`) in the Responses API's flat shape. */
function urlCitation(annotation: unknown): Record<string, unknown> | undefined {
  const { type, url_citation: citation } = (annotation ?? {}) as { type?: unknown; url_citation?: Record<string, unknown> };
  if (type !== 'url_citation' || typeof citation !== 'object' || citation === null) return undefined;
  const { start_index, end_index, url, title } = citation;
  if (typeof start_index !== 'number' || typeof end_index !== 'number' || typeof url !== 'string') return undefined;
  return { type: 'url_citation', start_index, end_index, url, title: typeof title === 'string' ? title : '' };
}

/**
 * Reports the fields of `completion` a translated `Response` left out (`dropped`, from its
 * {@link answerExtras}): one warning naming them (never their values, which hold the model's
 * output) and one count per field in `groundwork_responses_dropped_answer_fields_total`.
 */
export function reportDroppedAnswerFields(completion: ChatCompletion, dropped: readonly string[], report: AnswerFieldReport): void {
  if (dropped.length === 0) return;
  const { provider, model } = completion;
  for (const field of dropped) report.metrics?.droppedAnswerFields.inc({ provider, field });
  report.logger?.warn(
    { provider, model, fields: dropped },
    `Left ${dropped.join(', ')} out of a translated Responses answer: a Response has no place for ${dropped.length === 1 ? 'it' : 'them'}`,
  );
}
