import { TenantInputError } from './tenant-errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$/;

/**
 * Checks a key's or team's name: 1–128 letters, digits and `_.:@/-`, not starting with an id's
 * prefix (`key_`, `team_`), so that a name can never be mistaken for an id.
 */
export function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TenantInputError('name', 'must be 1–128 letters, digits or _.:@/- and start with a letter or digit');
  }
  if (name.startsWith('key_') || name.startsWith('team_'))
    throw new TenantInputError('name', 'must not start with "key_" or "team_", which ids use');
  return name;
}
