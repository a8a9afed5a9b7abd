import { DashboardInputError } from './dashboard-input-error.js';

/** The periods the overview shows. */
export type RangeName = 'hour' | 'day' | 'week' | 'month';

/** A period cut into equal buckets, newest last. */
export interface TimeRange {
  name: RangeName;
  /** The first bucket's start, epoch ms (a multiple of `stepMs`). */
  fromMs: number;
  /** The end of the period (now), epoch ms. */
  toMs: number;
  /** One bucket's width, ms. */
  stepMs: number;
}

const RANGES: Record<RangeName, { spanMs: number; stepMs: number }> = {
  hour: { spanMs: 3_600_000, stepMs: 60_000 },
  day: { spanMs: 86_400_000, stepMs: 1_800_000 },
  week: { spanMs: 604_800_000, stepMs: 10_800_000 },
  month: { spanMs: 30 * 86_400_000, stepMs: 86_400_000 },
};

/** The names `range=` accepts. */
export const RANGE_NAMES = Object.keys(RANGES) as RangeName[];

/** The period `name` ending at `nowMs`, aligned to whole buckets (UTC), so that each bucket is complete but the last. */
export function timeRange(name: string, nowMs: number): TimeRange {
  const rule = RANGES[name as RangeName];
  if (rule === undefined) throw new DashboardInputError('range', `"${name.slice(0, 40)}" is not a range; use ${RANGE_NAMES.join(', ')}`);
  const lastBucket = Math.floor(nowMs / rule.stepMs) * rule.stepMs;
  return { name: name as RangeName, fromMs: lastBucket - rule.spanMs + rule.stepMs, toMs: nowMs, stepMs: rule.stepMs };
}

/** Every bucket start of `range`, oldest first. */
export function bucketStarts(range: TimeRange): number[] {
  const starts: number[] = [];
  for (let start = range.fromMs; start <= range.toMs; start += range.stepMs) starts.push(start);
  return starts;
}
