import { createHash, randomUUID } from 'node:crypto';

/**
 * A job's id: random, or derived from its name and idempotency key (a name-based UUID, version 5
 * layout over SHA-1), so that the same key enqueues the same job in every process.
 */
export function jobId(name: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomUUID();
  const bytes = createHash('sha1').update(`groundwork-job\u0000${name}\u0000${idempotencyKey}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
