import { describe, expect, it, vi } from 'vitest';
import { KnownModels, OTHER_MODEL } from './known-models.js';

describe('KnownModels', () => {
  it('asks for the family of a name outside the set once, however often the name is labelled', () => {
    const models = new KnownModels();
    const family = vi.fn((model: string) => (model.startsWith('claude-haiku-4-5') ? 'claude-haiku-4-5' : undefined));
    models.restrictTo(['gpt-4o-mini'], family);
    for (let use = 0; use < 3; use++) {
      expect(models.label('gpt-4o-mini')).toBe('gpt-4o-mini');
      expect(models.label('claude-haiku-4-5-20251001')).toBe('claude-haiku-4-5');
      expect(models.label('made-up')).toBe(OTHER_MODEL);
    }
    expect(family).toHaveBeenCalledTimes(2);
  });

  it('remembers at most 1024 names, and forgets them when a name is admitted', () => {
    const models = new KnownModels();
    const family = vi.fn(() => undefined);
    models.restrictTo([], family);
    for (let name = 0; name < 1100; name++) models.label(`random-${name}`);
    expect(family).toHaveBeenCalledTimes(1100);
    // Past the bound, a name is asked about again rather than remembered.
    models.label('random-1099');
    expect(family).toHaveBeenCalledTimes(1101);
    models.label('random-0');
    expect(family).toHaveBeenCalledTimes(1101);
    models.admit(['random-0']);
    expect(models.label('random-0')).toBe('random-0');
  });

  it('labels every name as itself while open', () => {
    expect(new KnownModels().label('anything')).toBe('anything');
  });
});
