import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.js';

/** The outcome of checking a request's credentials. */
export type AuthOutcome = 'ok' | 'missing' | 'invalid';

/**
 * Checks bearer keys against the configured ones. Keys are kept only as SHA-256 digests, taken
 * once at start; a presented key is hashed and compared with every digest in constant time, so
 * neither the key's length nor which key matched leaks through timing.
 */
export class ApiKeyVerifier {
  readonly #digests: readonly Buffer[];

  constructor(keys: readonly Secret[]) {
    this.#digests = keys.map((key) => digest(key.reveal()));
  }

  /** Whether any key is configured; without one every request is accepted (loopback only). */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /**
   * Checks an `Authorization: Bearer <key>` header value, or else Azure OpenAI's `api-key: <key>`
   * header, which Azure clients send instead.
   */
  verify(authorization: string | undefined, apiKey?: string | string[]): AuthOutcome {
    if (!this.enabled) return 'ok';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const azure = typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
    const token = match?.[1] ?? azure;
    if (token === undefined) return 'missing';
    const presented = digest(token);
    let found = false;
    for (const candidate of this.#digests) found = timingSafeEqual(candidate, presented) || found;
    return found ? 'ok' : 'invalid';
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
