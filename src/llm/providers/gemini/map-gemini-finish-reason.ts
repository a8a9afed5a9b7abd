import type { FinishReason } from '../../types.js';

/** Gemini's reasons for stopping on account of its safety and policy filters. */
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini's `finishReason` in Groundwork's terms: `STOP` is `stop` (`tool_calls` when the candidate
 * called functions), `MAX_TOKENS` is `length`, every safety, recitation or policy stop is
 * `content_filter`; anything else (`MALFORMED_FUNCTION_CALL`, `OTHER`) is `unknown`.
 */
export function mapGeminiFinishReason(reason: string | undefined, calledTools: boolean): FinishReason {
  if (reason === undefined || reason === 'STOP' || reason === 'FINISH_REASON_UNSPECIFIED') return calledTools ? 'tool_calls' : 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return 'unknown';
}
