import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './harness.js';

/*
 * Soak: SOAK_CALLS (default 50,000) JSON calls, then as many streamed calls, each kind in its own
 * process with a 64 MB heap, and the heap growth per 10,000 calls after full collections: while
 * the calls run (the slope through a checkpoint every 10,000 calls) and once they are over.
 * A leak shows as growth in the thousands of kilobytes per 10,000 calls, or as the process dying.
 */
const WORKER = fileURLToPath(new URL('./soak-worker.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url));

interface SoakFigures {
  heapBeforeBytes: number;
  heapAfterBytes: number;
  growthBytesPer10k: number;
  inRunGrowthBytesPer10k: number;
  rssAfterBytes: number;
  checkpoints: Array<{ calls: number; heapUsedBytes: number; rssBytes: number }>;
  elapsedMs: number;
  callsPerSecond: number;
  failures: Record<string, number>;
}

function soak(mode: 'json' | 'stream', calls: number): Promise<SoakFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=64', '--import', TSX, WORKER, mode, String(calls)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`the ${mode} soak died (exit ${code}, signal ${signal}) after ${calls} calls at most`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as SoakFigures);
    });
  });
}

export default async function soakBench(): Promise<BenchResult> {
  const calls = Number(process.env.SOAK_CALLS ?? 50_000);
  const json = await soak('json', calls);
  const stream = await soak('stream', calls);
  const row = (subject: string, figures: SoakFigures) => ({
    subject,
    calls,
    heap_before_kb: Math.round(figures.heapBeforeBytes / 1024),
    heap_after_kb: Math.round(figures.heapAfterBytes / 1024),
    growth_kb_per_10k: Math.round(figures.growthBytesPer10k / 1024),
    in_run_growth_kb_per_10k: Math.round(figures.inRunGrowthBytesPer10k / 1024),
    in_run_heap_kb: figures.checkpoints.map((point) => Math.round(point.heapUsedBytes / 1024)).join(' '),
    rss_after_mb: Math.round(figures.rssAfterBytes / 1048576),
    seconds: Math.round(figures.elapsedMs / 1000),
    calls_per_s: figures.callsPerSecond,
    failed_calls: Object.values(figures.failures).reduce((sum, count) => sum + count, 0),
  });
  return {
    name: 'soak',
    description: `${calls} JSON calls, then ${calls} streamed calls, each in a process with a 64 MB heap: heap growth after GC`,
    rows: [row('json', json), row('stream', stream)],
    ratios: {
      ratio_stream_to_json_growth: Number((stream.growthBytesPer10k / Math.max(1, Math.abs(json.growthBytesPer10k))).toFixed(2)),
      ratio_stream_to_json_in_run_growth: Number(
        (stream.inRunGrowthBytesPer10k / Math.max(1, Math.abs(json.inRunGrowthBytesPer10k))).toFixed(2),
      ),
    },
  };
}
