import { describe, expect, it } from 'vitest';
import { editDistance } from './edit-distance.js';
import { checkAnswerLocally, typoAllowance } from './local-check.js';
import { localComment } from './local-comment.js';
import { normalizeAnswer, stripDiacritics } from './normalize-answer.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['recieve', 'receive', 1],
    ['ca', 'ac', 1],
    ['привет', 'пирвет', 1],
    ['здравствуйте', 'здраствуйте', 1],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(editDistance('😀a', '😃a')).toBe(1);
  });
});

describe('normalizeAnswer', () => {
  it('folds case, whitespace and punctuation', () => {
    expect(normalizeAnswer('  Hello,   World! ')).toBe('hello world');
    expect(normalizeAnswer('ПРИВЕТ!!!')).toBe('привет');
    expect(normalizeAnswer("don't")).toBe('dont');
    expect(normalizeAnswer('well-known')).toBe('well known');
  });

  it('makes composed and decomposed letters equal', () => {
    expect(normalizeAnswer('cafe\u0301')).toBe(normalizeAnswer('café'));
    expect(normalizeAnswer('е\u0308ж')).toBe('ёж');
  });

  it('strips diacritics only when asked', () => {
    expect(stripDiacritics('crème brûlée')).toBe('creme brulee');
    expect(stripDiacritics('ёж')).toBe('еж');
  });
});

describe('typoAllowance', () => {
  it('grows with the word', () => {
    expect([1, 3, 4, 7, 8, 15].map(typoAllowance)).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

describe('checkAnswerLocally', () => {
  it('accepts the same answer in another case, spacing or punctuation', () => {
    expect(checkAnswerLocally('привет', '  Привет! ')).toMatchObject({ isCorrect: true, match: 'exact' });
    expect(checkAnswerLocally('Good morning', 'good   morning.')).toMatchObject({ isCorrect: true, match: 'exact' });
  });

  it('accepts missing or different diacritics and says so', () => {
    expect(checkAnswerLocally('café', 'cafe')).toMatchObject({ isCorrect: true, match: 'accents' });
    expect(checkAnswerLocally('ёлка', 'елка')).toMatchObject({ isCorrect: true, match: 'accents' });
    expect(checkAnswerLocally('Straße', 'straße')).toMatchObject({ isCorrect: true, match: 'exact' });
  });

  it('accepts small typos scaled to the word length', () => {
    expect(checkAnswerLocally('receive', 'recieve')).toMatchObject({ isCorrect: true, match: 'typo', distance: 1 });
    expect(checkAnswerLocally('здравствуйте', 'здраствуте')).toMatchObject({ isCorrect: true, match: 'typo', distance: 2 });
    expect(checkAnswerLocally('привет', 'превет')).toMatchObject({ isCorrect: true, match: 'typo' });
  });

  it('rejects one wrong letter in a short word', () => {
    expect(checkAnswerLocally('кот', 'кит')).toMatchObject({ isCorrect: false, match: 'none', distance: 1 });
  });

  it('rejects too many typos for the length', () => {
    expect(checkAnswerLocally('привет', 'прывит')).toMatchObject({ isCorrect: false, distance: 2 });
  });

  it('rejects clearly wrong and empty answers', () => {
    expect(checkAnswerLocally('привет', 'пока')).toMatchObject({ isCorrect: false, match: 'none' });
    expect(checkAnswerLocally('hello', 'goodbye')).toMatchObject({ isCorrect: false });
    expect(checkAnswerLocally('привет', '   ')).toMatchObject({ isCorrect: false });
    expect(checkAnswerLocally('привет', '!!!')).toMatchObject({ isCorrect: false });
  });

  it('accepts any listed alternative, or the whole list', () => {
    expect(checkAnswerLocally('привет, здравствуйте', 'Здравствуйте')).toMatchObject({ isCorrect: true, closest: 'здравствуйте' });
    expect(checkAnswerLocally('hi / hello', 'helo')).toMatchObject({ isCorrect: true, match: 'typo', closest: 'hello' });
    expect(checkAnswerLocally('привет, здравствуйте', 'привет, здравствуйте')).toMatchObject({ isCorrect: true, match: 'exact' });
  });
});

describe('localComment', () => {
  it('always says the check was local', () => {
    for (const answer of ['привет', 'превет', 'пока']) {
      expect(localComment(checkAnswerLocally('привет', answer))).toMatch(/^Checked locally/);
    }
    expect(localComment(checkAnswerLocally('привет', 'пока'))).toContain('incorrect; expected "привет"');
  });
});
