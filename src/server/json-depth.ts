/** Deepest nesting of objects and arrays a request body may have; real requests stay far below it. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 34; // "
const BACKSLASH = 92; // \

/**
 * How deeply the JSON text nests objects and arrays (brackets inside strings do not count), stopping
 * early once it passes `limit`. Checked before parsing: every later step that walks the value
 * recursively (validation, schema conversion) would otherwise overflow the stack on a hostile body,
 * and the parser itself spends ~100× longer per byte on deep nesting than on ordinary JSON.
 *
 * A string is crossed in jumps from quote to quote (`indexOf`, native) rather than a character at a
 * time: a request's bytes are mostly prompt text, and stepping through them in JavaScript cost more
 * than parsing the whole body (52 µs against 15 µs for a 32 KB prompt).
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = closingQuote(text, index);
      if (index === -1) return false;
    } else if (code === 123 /* { */ || code === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (code === 125 /* } */ || code === 93 /* ] */) depth--;
  }
  return false;
}

/**
 * The index of the quote that closes the string opened at `open`, or -1 when none does: the next
 * quote not escaped, that is, preceded by an even run of backslashes (each backslash escapes the
 * character after it, another backslash included).
 */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote !== -1) {
    let backslashes = 0;
    // Stops at the opening quote at the latest.
    for (let before = quote - 1; text.charCodeAt(before) === BACKSLASH; before--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}
