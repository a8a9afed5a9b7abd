import type { TenantSettings } from './tenant-settings.js';

/** Whether a key may be used now, and if not, why. */
export type KeyStatus = 'active' | 'disabled' | 'expired' | 'revoked';

/** A virtual key as stored: everything but the plain key, which exists only once, at creation or rotation. */
export interface VirtualKey extends TenantSettings {
  /** `key_…`, stable for the key's life (a rotation keeps it). */
  id: string;
  /** Unique among keys. */
  name: string;
  /** The first characters of the plain key (`gw-Ab12Cd`), for display only. */
  prefix: string;
  /** The team whose budgets and limits also bound this key, if any. */
  teamId: string | null;
  /** After it the key is refused; null: never expires. */
  expiresAt: Date | null;
  /** When the key was revoked; a revoked key stays refused for good. */
  revokedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The key's status at `now`: revoked wins over disabled, which wins over expired. */
export function keyStatus(key: Pick<VirtualKey, 'enabled' | 'expiresAt' | 'revokedAt'>, now: Date): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (!key.enabled) return 'disabled';
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}
