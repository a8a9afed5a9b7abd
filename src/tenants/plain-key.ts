import { createHash, randomBytes } from 'node:crypto';
import { Secret } from '../config/secret.js';

/** Every plain key starts with it, so that secret scanners and people recognise one. */
export const PLAIN_KEY_PREFIX = 'gw-';

/** Characters of the plain key kept for display: the `gw-` marker and 6 of its 43 random characters. */
const DISPLAY_LENGTH = PLAIN_KEY_PREFIX.length + 6;

/** A new plain key, its digest and its display prefix. */
export interface MintedKey {
  /** `gw-` and 256 random bits in base64url; prints as `[redacted]`. Shown once, never stored. */
  plain: Secret;
  /** Hex SHA-256 of the plain key: what the database holds. */
  digest: string;
  /** The first characters, for people to tell keys apart; 36 bits of the 256, useless to an attacker. */
  prefix: string;
}

/** Mints a plain key with 256 bits of entropy. */
export function mintKey(): MintedKey {
  const value = `${PLAIN_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { plain: new Secret('virtual key', value), digest: digestKey(value), prefix: value.slice(0, DISPLAY_LENGTH) };
}

/** The hex SHA-256 of a plain key. A fast hash is enough: the key has 256 random bits, so there is nothing to brute-force. */
export function digestKey(plain: string): string {
  return createHash('sha256').update(plain, 'utf8').digest('hex');
}

/** Whether `value` is shaped like a Groundwork virtual key (not whether it exists). */
export function looksLikeVirtualKey(value: string): boolean {
  return value.startsWith(PLAIN_KEY_PREFIX) && value.length === PLAIN_KEY_PREFIX.length + 43;
}
