import { randomUUID } from 'node:crypto';
import type { CompletionIdentity } from './chat-response.js';

/** A fresh id and creation time for one answer, in OpenAI's style (`chatcmpl-…`, Unix seconds). */
export function newCompletionIdentity(now: number = Date.now()): CompletionIdentity {
  return { id: `chatcmpl-${randomUUID().replaceAll('-', '')}`, created: Math.floor(now / 1000) };
}

/**
 * A streamed answer's id and creation time, fixed before its first chunk: the provider's when the
 * stream's start gave them, else fresh ones, each on its own as a whole answer takes them (Anthropic
 * names its message but not when it made it). Every chunk of the answer carries the same pair.
 */
export function streamIdentity(start: { id?: string; created?: number } | undefined): CompletionIdentity {
  const id = start?.id;
  const created = start?.created;
  if (id !== undefined && created !== undefined) return { id, created };
  const fresh = newCompletionIdentity();
  return { id: id ?? fresh.id, created: created ?? fresh.created };
}
