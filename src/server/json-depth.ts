/** Deepest nesting of objects and arrays a request body may have; real requests stay far below it. */
export const MAX_JSON_DEPTH = 64;

/**
 * How deeply the JSON text nests objects and arrays (brackets inside strings do not count), stopping
 * early once it passes `limit`. Checked before parsing: every later step that walks the value
 * recursively (validation, schema conversion) would otherwise overflow the stack on a hostile body.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 92 /* \ */) index++;
      else if (code === 34 /* " */) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 123 /* { */ || code === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (code === 125 /* } */ || code === 93 /* ] */) depth--;
  }
  return false;
}
