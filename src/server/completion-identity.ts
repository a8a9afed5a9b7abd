import { randomUUID } from 'node:crypto';
import type { CompletionIdentity } from './chat-response.js';

/** A fresh id and creation time for one answer, in OpenAI's style (`chatcmpl-…`, Unix seconds). */
export function newCompletionIdentity(now: number = Date.now()): CompletionIdentity {
  return { id: `chatcmpl-${randomUUID().replaceAll('-', '')}`, created: Math.floor(now / 1000) };
}
