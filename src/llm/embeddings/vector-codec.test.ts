import { describe, expect, it } from 'vitest';
import { vectorFromWire, vectorToBase64 } from './vector-codec.js';

describe('vectorFromWire', () => {
  it('reads either wire form back', () => {
    const vector = new Float32Array([0.25, -0.5, 1]);
    expect(vectorFromWire(vectorToBase64(vector))).toEqual(vector);
    expect(vectorFromWire([0.25, -0.5, 1])).toEqual(vector);
  });

  it('takes no base64 that is not whole float32s, and no empty vector, rather than answer a vector cut short', () => {
    const bytes = Buffer.from(new Float32Array([0.25, -0.5]).buffer);
    // Seven bytes: the second float cut short on the way.
    expect(vectorFromWire(bytes.subarray(0, 7).toString('base64'))).toBeUndefined();
    expect(vectorFromWire('')).toBeUndefined();
    expect(vectorFromWire([])).toBeUndefined();
  });
});
