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

  it('neither keeps nor joins a lookup that began before an invalidation', async () => {
    // The first lookup reads the key before it is revoked, and its answer is slow to arrive.
    let revoked = false;
    let release!: () => void;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const lookups: boolean[] = [];
    const source = {
      findKeyByPlain: async () => {
        const read = { ...key, revokedAt: revoked ? new Date(1) : null };
        lookups.push(revoked);
        if (!revoked) await slow;
        return read;
      },
      showTeam: async () => team,
    };
    const directory = new KeyDirectory(source, { ttlMs: 60_000, clock: new ManualClock() });
    const before = directory.resolve('gw-known');
    // The key is revoked and this process is told: the cache is dropped while the lookup is in flight.
    revoked = true;
    directory.invalidate();
    // A request after the announcement does not join the stale lookup…
    expect((await directory.resolve('gw-known'))?.key.revokedAt).not.toBeNull();
    release();
    // …whose own caller gets what it read, which is not kept for the next one.
    expect((await before)?.key.revokedAt).toBeNull();
    expect((await directory.resolve('gw-known'))?.key.revokedAt).not.toBeNull();
    expect(lookups).toEqual([false, true]);
  });

  it('bounds its entries', async () => {
    const source = repository();
    const directory = new KeyDirectory(source, { ttlMs: 60_000, maxEntries: 2, clock: new ManualClock() });
    for (const plain of ['gw-a', 'gw-b', 'gw-c']) await directory.resolve(plain);
    await directory.resolve('gw-a');
    expect(source.lookups).toEqual(['gw-a', 'gw-b', 'gw-c', 'gw-a']);
  });
});
