import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-depth.js';

/** The plain scan, a character at a time: what the quote-to-quote jumps must always agree with. */
function steppedDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 92) index++;
      else if (code === 34) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 123 || code === 91) {
      if (++depth > limit) return true;
    } else if (code === 125 || code === 93) depth--;
  }
  return false;
}

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, and stops counting past the limit', () => {
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe(true);
    expect(jsonDepthExceeds('[[],[],[],[]]', 2)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    expect(jsonDepthExceeds('{"a":"[[[[{{{{"}', 1)).toBe(false);
    // An escaped quote does not end the string: the brackets after it are still inside it.
    expect(jsonDepthExceeds('{"a":"x\\"[[[["}', 1)).toBe(false);
    // An escaped backslash does not escape the quote after it: the string ends there.
    expect(jsonDepthExceeds('{"a":"x\\\\",[[["b"]]]}', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"\\\\\\"[[[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('["\\u005b[[["]', 1)).toBe(false);
  });

  it('treats an unterminated string as running to the end', () => {
    expect(jsonDepthExceeds('{"a":"[[[[', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"x\\"[[[[', 1)).toBe(false);
  });

  it('agrees with a character-by-character scan on random texts of quotes, backslashes and brackets', () => {
    const alphabet = ['"', '\\', '[', ']', '{', '}', 'a', ':', ','];
    let seed = 42;
    const random = (bound: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % bound;
    };
    for (let round = 0; round < 20_000; round++) {
      let text = '';
      const length = random(40);
      for (let index = 0; index < length; index++) text += alphabet[random(alphabet.length)];
      const limit = random(5);
      expect(jsonDepthExceeds(text, limit), `${JSON.stringify(text)} at limit ${limit}`).toBe(steppedDepthExceeds(text, limit));
    }
  });
});
