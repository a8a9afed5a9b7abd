/** A little-endian float32 vector as OpenAI's `encoding_format: base64` sends it. */
export function vectorToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** Reads a base64 float32 vector back; a copy, aligned, that the caller owns. */
export function vectorFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const vector = new Float32Array(bytes.byteLength >>> 2);
  new Uint8Array(vector.buffer).set(bytes.subarray(0, vector.byteLength));
  return vector;
}

/** A vector from either wire form: a base64 string or an array of numbers. */
export function vectorFromWire(embedding: unknown): Float32Array | undefined {
  if (typeof embedding === 'string') return vectorFromBase64(embedding);
  if (Array.isArray(embedding) && embedding.every((value) => typeof value === 'number')) return Float32Array.from(embedding);
  return undefined;
}
