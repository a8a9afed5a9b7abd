import type { StreamStart } from '../types.js';

/** A provider stream's start: its rate-limit headers and the answer's id, creation time and model, each when known. */
export function streamStart(
  rateLimitHeaders: Record<string, string> | undefined,
  id: string | undefined,
  created?: number,
  model?: string,
): StreamStart {
  const start: StreamStart = { type: 'start' };
  if (rateLimitHeaders !== undefined) start.rateLimitHeaders = rateLimitHeaders;
  if (id !== undefined) start.id = id;
  if (created !== undefined) start.created = created;
  if (model !== undefined) start.model = model;
  return start;
}
