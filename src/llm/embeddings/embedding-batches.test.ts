import { describe, expect, it } from 'vitest';
import { splitIntoBatches } from './embedding-batches.js';
import { runBounded } from './run-bounded.js';
import { vectorFromBase64, vectorFromWire, vectorToBase64 } from './vector-codec.js';

describe('splitIntoBatches', () => {
  const limits = { maxInputs: 3, maxTokens: 10 };

  it('keeps consecutive inputs together within both bounds', () => {
    expect(splitIntoBatches([0, 1, 2, 3, 4], [1, 1, 1, 1, 1], limits).map((batch) => batch.indexes)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(splitIntoBatches([0, 1, 2], [6, 5, 4], limits).map((batch) => [batch.indexes, batch.tokens])).toEqual([
      [[0], 6],
      [[1, 2], 9],
    ]);
  });

  it('puts an input over the token bound in a batch of its own, for the provider to refuse', () => {
    expect(splitIntoBatches([0, 1, 2], [2, 50, 2], limits).map((batch) => batch.indexes)).toEqual([[0], [1], [2]]);
  });
});

describe('runBounded', () => {
  it('runs at most `concurrency` at once and every item once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await runBounded([1, 2, 3, 4, 5, 6], 2, undefined, async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      seen.push(item);
      running--;
    });
    expect(most).toBe(2);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('aborts the others and starts no more after the first failure, then throws it', async () => {
    const started: number[] = [];
    let abortedOthers = 0;
    const failure = new Error('batch 2 failed');
    const run = runBounded([1, 2, 3, 4], 2, undefined, async (item, signal) => {
      started.push(item);
      if (item === 2) throw failure;
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          abortedOthers++;
          resolve();
        });
      });
    });
    await expect(run).rejects.toBe(failure);
    expect(started).toEqual([1, 2]);
    expect(abortedOthers).toBe(1);
  });
});

describe('vector codec', () => {
  it('round-trips float32 vectors through base64, as OpenAI encodes them', () => {
    const vector = Float32Array.from([0.25, -1.5, 3.125]);
    expect(vectorToBase64(vector)).toBe(Buffer.from(vector.buffer).toString('base64'));
    expect(vectorFromBase64(vectorToBase64(vector))).toEqual(vector);
    expect(vectorFromWire([0.25, -1.5, 3.125])).toEqual(vector);
    expect(vectorFromWire({})).toBeUndefined();
  });
});
