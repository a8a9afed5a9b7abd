import { randomUUID } from 'node:crypto';
import type { CompletionIdentity } from './chat-response.js';

/** A fresh answer id in OpenAI's style: `chatcmpl-` and 32 hexadecimal digits. */
function newCompletionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

/** A fresh id and creation time for one answer, in OpenAI's style (`chatcmpl-…`, Unix seconds). */
export function newCompletionIdentity(now: number = Date.now()): CompletionIdentity {
  return { id: newCompletionId(), created: Math.floor(now / 1000) };
}

/**
 * A streamed answer's id and creation time, fixed before its first chunk: the provider's when the
 * stream's start gave them, else a fresh id and `now`, each on its own as a whole answer takes them
 * (Anthropic names its message but not when it made it). Every chunk of the answer carries the same pair.
 */
export function streamIdentity(start: { id?: string; created?: number } | undefined, now: number = Date.now()): CompletionIdentity {
  return { id: start?.id ?? newCompletionId(), created: start?.created ?? Math.floor(now / 1000) };
}
