/** A little-endian float32 vector as OpenAI's `encoding_format: base64` sends it. */
export function vectorToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** Reads a base64 float32 vector back; a copy, aligned, that the caller owns. Trailing bytes short of a float are left out. */
export function vectorFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const vector = new Float32Array(bytes.byteLength >>> 2);
  new Uint8Array(vector.buffer).set(bytes.subarray(0, vector.byteLength));
  return vector;
}

/** Whether base64 `text` holds whole float32s, at least one: a vector cut short on the way holds a part of one. */
export function holdsFloat32s(text: string): boolean {
  const length = Buffer.byteLength(text, 'base64');
  return length > 0 && length % 4 === 0;
}

/**
 * A vector from either wire form: a base64 string or an array of numbers. Undefined for anything
 * else, for an empty one, and for base64 that is not whole float32s, so that a truncated answer is
 * refused as malformed rather than answered and cached a float short.
 */
export function vectorFromWire(embedding: unknown): Float32Array | undefined {
  if (typeof embedding === 'string') return holdsFloat32s(embedding) ? vectorFromBase64(embedding) : undefined;
  if (Array.isArray(embedding) && embedding.length > 0 && embedding.every((value) => typeof value === 'number')) {
    return Float32Array.from(embedding);
  }
  return undefined;
}
