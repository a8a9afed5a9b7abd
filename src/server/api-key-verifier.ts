import { createHash, timingSafeEqual } from 'node:crypto';
import { type Secret, secretReplacements } from '../config/secret.js';

/** The outcome of checking a request's credentials. */
export type AuthOutcome = 'ok' | 'missing' | 'invalid';

/**
 * Checks bearer keys against the configured ones. Keys are kept only as SHA-256 digests, taken
 * at start and again whenever the configured keys change (`reloadSecrets()`); a presented key is hashed and compared with every digest in constant time, so
 * neither the key's length nor which key matched leaks through timing.
 *
 * A key that matched is remembered, so that its next requests skip the hash (1–2% of a served
 * call's CPU). Only keys that matched are remembered: the set holds at most one entry per
 * configured key, and no caller can grow it by sending made-up keys, which keep paying the hash.
 * When the configured keys change the memory is cleared, so a remembered verdict never outlives its key.
 * The set holds the presented string itself, which the request's headers held already: it lives
 * in a private field (out of `util.inspect`, JSON and logs) and is never written anywhere. A
 * lookup compares the presented string with a remembered one only when their V8 hashes (seeded
 * per process) collide, so its timing says nothing about a configured key that the status code
 * does not say already.
 */
export class ApiKeyVerifier {
  readonly #keys: () => readonly Secret[];
  #digests: readonly Buffer[] = [];
  /** The keys' values the digests were taken from, to see a rotation. */
  #source: readonly string[] = [];
  /** The list last read: a reload replaces it, or (a copy of the settings holding the old list) replaces its keys' values in place. */
  #list: readonly Secret[] | undefined;
  /** {@link secretReplacements} when the values were last read: the same list and count need no look at its values. */
  #replacements = -1;
  readonly #accepted = new Set<string>();

  /** `keys`: the accepted keys, or a function that gives them now (read at each check, so rotated keys apply). */
  constructor(keys: readonly Secret[] | (() => readonly Secret[])) {
    this.#keys = typeof keys === 'function' ? keys : () => keys;
    this.#refresh();
  }

  /** Takes the digests again when the configured keys changed; forgets every remembered verdict then. */
  #refresh(): void {
    const list = this.#keys();
    const replacements = secretReplacements();
    if (list === this.#list && replacements === this.#replacements) return;
    this.#list = list;
    this.#replacements = replacements;
    const values = list.map((key) => key.reveal());
    if (values.length === this.#source.length && values.every((value, index) => value === this.#source[index])) return;
    this.#source = values;
    this.#digests = values.map(digest);
    this.#accepted.clear();
  }

  /** Whether any key is configured; without one every request is accepted (loopback only). */
  get enabled(): boolean {
    this.#refresh();
    return this.#digests.length > 0;
  }

  /**
   * Checks an `Authorization: Bearer <key>` header value, or else Azure OpenAI's `api-key: <key>`
   * header, which Azure clients send instead.
   */
  verify(authorization: string | undefined, apiKey?: string | string[]): AuthOutcome {
    if (!this.enabled) return 'ok';
    const token = presentedToken(authorization, apiKey);
    if (token === undefined) return 'missing';
    if (this.#accepted.has(token)) return 'ok';
    const presented = digest(token);
    let found = false;
    for (const candidate of this.#digests) found = timingSafeEqual(candidate, presented) || found;
    if (!found) return 'invalid';
    if (this.#accepted.size < this.#digests.length) this.#accepted.add(token);
    return 'ok';
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function presentedToken(authorization: string | undefined, apiKey: string | string[] | undefined): string | undefined {
  const match = authorization === undefined ? null : BEARER.exec(authorization);
  if (match !== null) return match[1];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
