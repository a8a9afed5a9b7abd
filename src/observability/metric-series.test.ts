import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { increment, observe } from './metric-series.js';

function pair() {
  const registry = new Registry();
  const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['a', 'b'], buckets: [1, 5], registers: [registry] });
  const counter = new Counter({ name: 'c', help: 'c', labelNames: ['a'], registers: [registry] });
  return { registry, histogram, counter };
}

describe('bound metric series', () => {
  it('exposes the same text as prom-client’s own observe and inc', async () => {
    const bound = pair();
    const plain = pair();
    for (const value of [0.5, 3, 7, 1, 5, 0.5]) {
      observe(bound.histogram, { a: 'x', b: 'y' }, value);
      plain.histogram.observe({ a: 'x', b: 'y' }, value);
      observe(bound.histogram, { a: 'z', b: 'y' }, value * 2);
      plain.histogram.observe({ a: 'z', b: 'y' }, value * 2);
      increment(bound.counter, { a: 'x' });
      plain.counter.inc({ a: 'x' });
      increment(bound.counter, { a: 'w' }, value);
      plain.counter.inc({ a: 'w' }, value);
    }
    expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('keeps label sets apart whose values only differ in where one ends', async () => {
    const bound = pair();
    const plain = pair();
    // Joined into one key with a separator, these two sets would read the same.
    const sets = [
      { a: 'x\u0001', b: '' },
      { a: 'x', b: '\u0001' },
    ];
    for (const value of [0.5, 3, 7]) {
      for (const labels of sets) {
        observe(bound.histogram, labels, value);
        plain.histogram.observe(labels, value);
      }
      observe(bound.histogram, sets[0] as { a: string; b: string }, value);
      plain.histogram.observe(sets[0] as { a: string; b: string }, value);
    }
    expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('keeps a missing label and an empty one apart, as prom-client does', async () => {
    const bound = pair();
    const plain = pair();
    for (let index = 0; index < 3; index++) {
      increment(bound.counter, { a: '' });
      plain.counter.inc({ a: '' });
      increment(bound.counter, {});
      plain.counter.inc({});
      observe(bound.histogram, { a: 'x', b: '' }, 2);
      plain.histogram.observe({ a: 'x', b: '' }, 2);
      observe(bound.histogram, { a: 'x' }, 2);
      plain.histogram.observe({ a: 'x' }, 2);
    }
    expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('counts a number and its text as one series, and a metric without labels', async () => {
    const registry = new Registry();
    const status = new Counter({ name: 's', help: 's', labelNames: ['status'], registers: [registry] });
    const total = new Counter({ name: 't', help: 't', registers: [registry] });
    for (let index = 0; index < 3; index++) {
      increment(status, { status: 200 });
      increment(status, { status: '200' });
      increment(total, {}, 2);
    }
    expect((await status.get()).values).toEqual([{ value: 6, labels: { status: 200 } }]);
    expect((await total.get()).values[0]?.value).toBe(6);
  });

  it('still validates labels and values as prom-client does', () => {
    const { histogram, counter } = pair();
    expect(() => observe(histogram, { c: 'x' } as never, 1)).toThrow(/label/i);
    expect(() => observe(histogram, { a: 'x' }, Number.NaN)).toThrow(/not a valid number/);
    expect(() => increment(counter, { a: 'x' }, -1)).toThrow(/decrease/);
  });

  it('records again after reset()', async () => {
    const { registry, histogram, counter } = pair();
    observe(histogram, { a: 'x', b: 'y' }, 2);
    increment(counter, { a: 'x' }, 2);
    registry.resetMetrics();
    observe(histogram, { a: 'x', b: 'y' }, 3);
    increment(counter, { a: 'x' }, 4);
    expect((await histogram.get()).values.find((value) => value.metricName === 'h_sum')?.value).toBe(3);
    expect((await counter.get()).values[0]?.value).toBe(4);
  });

  /*
   * A label set that is never bound still gives the right numbers through prom-client's own path,
   * so the tests above cannot tell; these count how often that path is taken.
   */
  describe('binds each label set after its first use', () => {
    type Labels = Record<string, string | number>;
    const histogramSets: [string, Labels][] = [
      ['two labels', { a: 'x', b: 'y' }],
      ['an empty label', { a: 'x', b: '' }],
      ['a missing label', { a: 'x' }],
      ['no labels given', {}],
      ['a value ending in \\u0001', { a: 'x\u0001', b: '' }],
      ['a value that is \\u0001', { a: 'x', b: '\u0001' }],
    ];
    const counterSets: [string, Labels][] = [
      ['one label', { a: 'x' }],
      ['an empty label', { a: '' }],
      ['a missing label', {}],
      ['a number', { a: 200 }],
      ['its text', { a: '200' }],
    ];

    it.each(histogramSets)('histogram, %s', (_name, labels) => {
      const { histogram } = pair();
      const slow = vi.spyOn(histogram, 'observe');
      for (const value of [0.5, 3, 7]) observe(histogram, labels, value);
      expect(slow).toHaveBeenCalledTimes(1);
    });

    it.each(counterSets)('counter, %s', (_name, labels) => {
      const { counter } = pair();
      const slow = vi.spyOn(counter, 'inc');
      for (const value of [1, 2, 3]) increment(counter, labels, value);
      expect(slow).toHaveBeenCalledTimes(1);
    });

    it('a metric without labels', () => {
      const histogram = new Histogram({ name: 'h', help: 'h', buckets: [1], registers: [] });
      const counter = new Counter({ name: 'c', help: 'c', registers: [] });
      const slowObserve = vi.spyOn(histogram, 'observe');
      const slowInc = vi.spyOn(counter, 'inc');
      for (const value of [0.5, 3, 7]) {
        observe(histogram, {}, value);
        increment(counter, {}, value);
      }
      expect(slowObserve).toHaveBeenCalledTimes(1);
      expect(slowInc).toHaveBeenCalledTimes(1);
    });

    it('label sets used in turn, each bound on its own', () => {
      const { histogram, counter } = pair();
      const slowObserve = vi.spyOn(histogram, 'observe');
      const slowInc = vi.spyOn(counter, 'inc');
      for (let index = 0; index < 3; index++) {
        for (const [, labels] of histogramSets) observe(histogram, labels, index);
        for (const [, labels] of counterSets) increment(counter, labels);
      }
      expect(slowObserve).toHaveBeenCalledTimes(histogramSets.length);
      expect(slowInc).toHaveBeenCalledTimes(counterSets.length);
    });

    it('again after resetMetrics()', () => {
      const { registry, histogram, counter } = pair();
      observe(histogram, { a: 'x', b: 'y' }, 2);
      increment(counter, { a: 'x' });
      registry.resetMetrics();
      const slowObserve = vi.spyOn(histogram, 'observe');
      const slowInc = vi.spyOn(counter, 'inc');
      for (const value of [0.5, 3, 7]) {
        observe(histogram, { a: 'x', b: 'y' }, value);
        increment(counter, { a: 'x' }, value);
      }
      expect(slowObserve).toHaveBeenCalledTimes(1);
      expect(slowInc).toHaveBeenCalledTimes(1);
    });
  });
});
