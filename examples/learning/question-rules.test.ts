import { describe, expect, it } from 'vitest';
import { normalizeOption, questionProblems } from './question-rules.js';

const sound = { question: 'What do plants need for photosynthesis?', options: ['Light', 'Salt', 'Sand', 'Noise'], correctIndex: 0 };

describe('questionProblems', () => {
  it('passes a sound question', () => {
    expect(questionProblems(sound)).toEqual([]);
  });

  it('rejects fewer than 2 or more than 6 options', () => {
    expect(questionProblems({ ...sound, options: ['Light'] })).toContain('has 1 options; between 2 and 6 are needed');
    expect(questionProblems({ ...sound, options: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] })[0]).toMatch(/has 7 options/);
    expect(questionProblems({ ...sound, options: ['a', 'b'] })).toEqual([]);
    expect(questionProblems({ ...sound, options: ['a', 'b', 'c', 'd', 'e', 'f'] })).toEqual([]);
  });

  it('rejects options that are the same once normalised', () => {
    const problems = questionProblems({ ...sound, options: ['Light', ' light.', 'Sand', 'Café', 'cafe\u0301'] });
    expect(problems).toEqual(['options repeat: "light", "café"']);
  });

  it('rejects blank options and a blank question', () => {
    expect(questionProblems({ ...sound, question: '  ', options: ['Light', ' '] })).toEqual([
      'the question is blank',
      'an option is blank',
    ]);
  });

  it('rejects a correctIndex out of range or not an integer', () => {
    expect(questionProblems({ ...sound, correctIndex: 4 })).toEqual(['correctIndex 4 names no option (0 to 3)']);
    expect(questionProblems({ ...sound, correctIndex: -1 })).toHaveLength(1);
    expect(questionProblems({ ...sound, correctIndex: 1.5 })).toHaveLength(1);
  });
});

describe('normalizeOption', () => {
  it('ignores case, spacing, final punctuation and Unicode forms', () => {
    expect(normalizeOption('  Carbon   dioxide. ')).toBe('carbon dioxide');
    expect(normalizeOption('ＣＯ２')).toBe('co2');
  });
});
