/*
 * A tokenizer-free estimate of the tokens in a text, for reserving against a tokens-per-minute
 * limit. One pass over the characters, no tables to load: a 32 KB prompt costs tens of
 * microseconds where js-tiktoken takes ~1 s to load its ranks and ~1.3 µs per token, on the
 * event loop. The reservation is reconciled with the provider's reported usage after the
 * call, so the estimate only has to be close: `bench/tokens.bench.ts` finds it within 0.73–1.08
 * times o200k_base's count on English, TypeScript, JSON, Chinese, Russian, German, French and
 * emoji, where characters ÷ 4 ranges from 0.35 (Chinese) to 1.31 (Russian).
 */

/** Tokens of a run of letters: a word of up to nine letters is usually one token, a longer one about one per six. */
function wordTokens(letters: number): number {
  return letters <= 9 ? 1 : letters / 6;
}

/** About how many tokens `text` holds for a modern BPE tokenizer (o200k_base, cl100k_base). */
export function approximateTokens(text: string): number {
  let tokens = 0;
  let letters = 0;
  let digits = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // Latin letters, accented ones and the other alphabets (Greek, Cyrillic, Hebrew, Arabic…) form words.
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 0xc0 && code < 0x2000)) {
      letters++;
      continue;
    }
    if (letters !== 0) {
      tokens += wordTokens(letters);
      letters = 0;
    }
    // Digits go in groups of up to three.
    if (code >= 48 && code <= 57) {
      digits++;
      continue;
    }
    if (digits !== 0) {
      tokens += Math.ceil(digits / 3);
      digits = 0;
    }
    if (code === 32) continue; // a space belongs to the word after it
    if (code < 128)
      tokens += code === 10 ? 0.5 : 0.8; // punctuation, often merged in pairs
    else if (code >= 0xd800 && code <= 0xdfff)
      tokens += 0.5; // half of an emoji's surrogate pair
    else tokens += 0.75; // CJK ideographs, kana, hangul, symbols
  }
  if (letters !== 0) tokens += wordTokens(letters);
  if (digits !== 0) tokens += Math.ceil(digits / 3);
  return Math.ceil(tokens);
}
