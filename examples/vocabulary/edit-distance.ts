/**
 * The optimal-string-alignment Damerau–Levenshtein distance between `a` and `b`, counted in
 * Unicode code points: insertions, deletions, substitutions and swaps of two neighbours cost 1.
 *
 * @example
 * ```ts
 * editDistance('recieve', 'receive'); // 1 (a swap)
 * ```
 */
export function editDistance(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const width = right.length + 1;
  // Three rows suffice: the swap looks two rows back.
  let older: number[] = [];
  let previous = Array.from({ length: width }, (_, column) => column);
  for (let row = 1; row <= left.length; row++) {
    const current = [row];
    for (let column = 1; column <= right.length; column++) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let best = Math.min(
        (previous[column] ?? 0) + 1, // deletion
        (current[column - 1] ?? 0) + 1, // insertion
        (previous[column - 1] ?? 0) + cost, // substitution
      );
      const swapped = row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1];
      if (swapped) best = Math.min(best, (older[column - 2] ?? 0) + 1);
      current.push(best);
    }
    older = previous;
    previous = current;
  }
  return previous[right.length] ?? 0;
}
