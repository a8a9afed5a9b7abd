import type { Counter, Histogram, LabelValues } from 'prom-client';

/*
 * prom-client validates the label set and rebuilds its hash on every `observe` and `inc`, and
 * its `labels()` children do the same on each call. Here each label set is bound once: its
 * series is looked up by the label values and updated in place. The series live in the
 * metric's own storage (prom-client 15's `hashMap`), so exposition, `get()` and `reset()` are
 * prom-client's; a metric whose storage is not shaped as expected, or a series `reset()`
 * dropped, goes through prom-client's own validating path.
 */

interface HistogramEntry {
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}

interface CounterEntry {
  value: number;
}

/** The prom-client 15 members a bound series reads: typed here, checked before use. */
interface Storage<E> {
  hashMap: Record<string, E>;
  readonly labelNames: readonly string[];
  /** The label names in the order prom-client hashes them. */
  readonly sortedLabelNames?: readonly string[];
  readonly upperBounds?: readonly number[];
}

interface Bound<E> {
  hash: string;
  entry: E;
}

type Labels = Record<string, string | number | undefined>;

const caches = new WeakMap<object, Cache>();

function storageOf<E>(metric: object): Storage<E> | undefined {
  const storage = metric as Partial<Storage<E>>;
  return typeof storage.hashMap === 'object' && storage.hashMap !== null && Array.isArray(storage.labelNames)
    ? (storage as Storage<E>)
    : undefined;
}

/**
 * The series `labels` names, once prom-client has created it; undefined when it has not (or when
 * its hash is not the one below, which leaves the set on prom-client's own path). The hash is
 * prom-client's: each sorted label name with its value, a label left undefined skipped, so a
 * missing label and an empty one stay two series, as they are there.
 */
function find<E>(storage: Storage<E>, labels: Labels): Bound<E> | undefined {
  let hash = '';
  for (const name of storage.sortedLabelNames ?? [...storage.labelNames].sort()) {
    const value = labels[name];
    if (value !== undefined) hash += `${name}:${value},`;
  }
  const entry = storage.hashMap[hash];
  return entry === undefined ? undefined : { hash, entry };
}

/**
 * One level of the bound series: a label's value leads to the next label's level, and the last
 * label's value to the series. Looked up by the values themselves, one `Map` per label, rather than
 * by a key string joined from them: joining builds and hashes a new string on every call, where a
 * value (a route, a model, a constant) is hashed once for as long as it lives.
 */
type Level = Map<unknown, unknown>;

interface Cache {
  /** The first label's level (for a metric without labels, the series sits under `undefined`). */
  readonly series: Level;
  /** A histogram's upper bounds as the property names of its buckets (a number key is converted on every access). */
  readonly bucketNames: readonly string[];
}

function cacheOf(metric: object, upperBounds: readonly number[] | undefined): Cache {
  let cache = caches.get(metric);
  if (cache === undefined) {
    cache = { series: new Map(), bucketNames: upperBounds?.map(String) ?? [] };
    caches.set(metric, cache);
  }
  return cache;
}

/** The bound series of `labels`, unless it was never bound or `reset()` replaced the metric's storage since. */
function live<E>(storage: Storage<E>, cache: Cache, labels: Labels): Bound<E> | undefined {
  const names = storage.labelNames;
  const last = names.length - 1;
  let level = cache.series;
  for (let index = 0; index < last; index++) {
    const next = level.get(labels[names[index] as string]) as Level | undefined;
    if (next === undefined) return undefined;
    level = next;
  }
  const found = level.get(last < 0 ? undefined : labels[names[last] as string]) as Bound<E> | undefined;
  return found !== undefined && storage.hashMap[found.hash] === found.entry ? found : undefined;
}

/** Binds the series prom-client just created (or updated) for `labels`. */
function bind<E>(storage: Storage<E>, cache: Cache, labels: Labels): void {
  const created = find(storage, labels);
  if (created === undefined) return;
  const names = storage.labelNames;
  const last = names.length - 1;
  let level = cache.series;
  for (let index = 0; index < last; index++) {
    const value = labels[names[index] as string];
    let next = level.get(value) as Level | undefined;
    if (next === undefined) {
      next = new Map();
      level.set(value, next);
    }
    level = next;
  }
  level.set(last < 0 ? undefined : labels[names[last] as string], created);
}

/** `metric.observe(labels, value)`, with the label set validated only the first time it is seen. */
export function observe<L extends string>(metric: Histogram<L>, labels: LabelValues<L>, value: number): void {
  const storage = storageOf<HistogramEntry>(metric);
  const upperBounds = storage?.upperBounds;
  if (storage === undefined || upperBounds === undefined || !Number.isFinite(value)) {
    metric.observe(labels, value);
    return;
  }
  const cache = cacheOf(metric, upperBounds);
  const series = live(storage, cache, labels as Labels);
  if (series === undefined) {
    metric.observe(labels, value);
    bind(storage, cache, labels as Labels);
    return;
  }
  const { entry } = series;
  entry.sum += value;
  entry.count += 1;
  const names = cache.bucketNames;
  for (let index = 0; index < upperBounds.length; index++) {
    if (value <= (upperBounds[index] as number)) {
      const name = names[index] as string;
      entry.bucketValues[name] = (entry.bucketValues[name] ?? 0) + 1;
      return;
    }
  }
}

/** `metric.inc(labels, value)`, with the label set validated only the first time it is seen. */
export function increment<L extends string>(metric: Counter<L>, labels: LabelValues<L>, value = 1): void {
  const storage = storageOf<CounterEntry>(metric);
  if (storage === undefined || !Number.isFinite(value) || value < 0) {
    metric.inc(labels, value);
    return;
  }
  const cache = cacheOf(metric, undefined);
  const series = live(storage, cache, labels as Labels);
  if (series === undefined) {
    metric.inc(labels, value);
    bind(storage, cache, labels as Labels);
    return;
  }
  series.entry.value += value;
}
