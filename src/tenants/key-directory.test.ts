import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { KeyDirectory } from './key-directory.js';
import type { Team } from './team.js';
import { OPEN_SETTINGS } from './tenant-settings.js';
import type { VirtualKey } from './virtual-key.js';

const key: VirtualKey = {
  ...OPEN_SETTINGS,
  id: 'key_1',
  name: 'one',
  prefix: 'gw-abcdef',
  teamId: 'team_1',
  expiresAt: null,
  revokedAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};
const team: Team = { ...OPEN_SETTINGS, id: 'team_1', name: 'team', createdAt: new Date(0), updatedAt: new Date(0) };

function repository() {
  const lookups: string[] = [];
  return {
    lookups,
    findKeyByPlain: async (plain: string) => {
      lookups.push(plain);
      return plain === 'gw-known' ? key : undefined;
    },
    showTeam: async () => team,
  };
}

describe('KeyDirectory', () => {
  it('finds a key and its team, and asks the database once per key within the TTL', async () => {
    const source = repository();
    const clock = new ManualClock();
    const directory = new KeyDirectory(source, { ttlMs: 1000, clock });
    expect(await directory.resolve('gw-known')).toEqual({ key, team });
    await Promise.all([directory.resolve('gw-known'), directory.resolve('gw-known')]);
    expect(source.lookups).toHaveLength(1);
    clock.advance(1000);
    await directory.resolve('gw-known');
    expect(source.lookups).toHaveLength(2);
  });

  it('remembers unknown keys as absent for the TTL, and forgets everything when invalidated', async () => {
    const source = repository();
    const directory = new KeyDirectory(source, { ttlMs: 60_000, clock: new ManualClock() });
    expect(await directory.resolve('gw-unknown')).toBeUndefined();
    expect(await directory.resolve('gw-unknown')).toBeUndefined();
    expect(source.lookups).toHaveLength(1);
    directory.invalidate();
    await directory.resolve('gw-unknown');
    expect(source.lookups).toHaveLength(2);
  });

  it('bounds its entries', async () => {
    const source = repository();
    const directory = new KeyDirectory(source, { ttlMs: 60_000, maxEntries: 2, clock: new ManualClock() });
    for (const plain of ['gw-a', 'gw-b', 'gw-c']) await directory.resolve(plain);
    await directory.resolve('gw-a');
    expect(source.lookups).toEqual(['gw-a', 'gw-b', 'gw-c', 'gw-a']);
  });
});
