import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../test/node-process.js';

const WORKER = fileURLToPath(new URL('../../bench/soak-worker.ts', import.meta.url));

/** The long version is `npm run bench -- soak` (50,000 calls of each kind under a capped heap). */
describe('streamed calls', () => {
  it('leave the heap flat after garbage collection: no per-stream leak', async () => {
    const result = await runNode(WORKER, ['stream', '2000', '16', '500'], {
      nodeArgs: ['--expose-gc', '--max-old-space-size=96'],
      timeoutMs: 170_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const figures = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { heapBeforeBytes: number; heapAfterBytes: number };
    const perCall = (figures.heapAfterBytes - figures.heapBeforeBytes) / 2000;
    // A leaked request (its signal, listeners and what they hold) is 3–8 KB; the first calls warm caches.
    expect(perCall).toBeLessThan(1000);
  }, 180_000);
});
