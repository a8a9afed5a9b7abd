import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createJobMetrics } from '../src/jobs/job-metrics.js';
import { JOB_STATES, type QueueStatus } from '../src/jobs/job-types.js';
import { GroundworkMetrics } from '../src/observability/metrics.js';

const root = join(import.meta.dirname, '..');
const RULES = join(root, 'deploy', 'prometheus', 'groundwork-alerts.yml');
const RULE_TESTS = join(root, 'deploy', 'prometheus', 'groundwork-alerts.test.yml');
const DASHBOARD = join(root, 'deploy', 'grafana', 'groundwork-dashboard.json');
const PROMTOOL = process.env['PROMTOOL_PATH'] ?? '/usr/bin/promtool';

/** Every series name Groundwork exposes, histograms with their `_bucket`, `_sum` and `_count`. */
async function exposedSeries(): Promise<Set<string>> {
  const registry = new GroundworkMetrics().registry;
  // A whole status (typed, so that a new field of it must be given here too): every gauge is collected.
  const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as QueueStatus['counts'];
  const status: QueueStatus = { engine: 'table', counts, oldestDueAgeMs: 0, unrunnable: 0, oldestUnrunnableAgeMs: 0, byName: {} };
  createJobMetrics(registry, async () => status);
  const metrics = await registry.getMetricsAsJSON();
  const names = new Set<string>();
  for (const metric of metrics) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

/** The series an expression reads (the `gen_ai_…` label names, which end in `_name`, `_model` or `_type`, left out). */
function referencedSeries(expression: string): string[] {
  return [...expression.matchAll(/\b(?:groundwork|gen_ai)_[a-z_]+\b/g)]
    .map((match) => match[0])
    .filter((name) => !/_(name|model|type)$/.test(name));
}

describe('the Prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    if (!existsSync(PROMTOOL)) throw new Error(`No promtool at ${PROMTOOL}: install Debian's prometheus package, as .ci/run does.`);
    const output = execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire as their unit tests expect (promtool test rules): a budget near its limit, a stuck job queue', () => {
    if (!existsSync(PROMTOOL)) throw new Error(`No promtool at ${PROMTOOL}: install Debian's prometheus package, as .ci/run does.`);
    const output = execFileSync(PROMTOOL, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect(output).toContain('SUCCESS');
  });

  it('watch an open breaker, errors, latency, budgets, refusals and the ledger, over metrics that exist', async () => {
    const rules = (
      parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }
    ).groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'GroundworkCircuitOpen',
        'GroundworkHighErrorRate',
        'GroundworkHighLatencyP95',
        'GroundworkBudgetExhausted',
        'GroundworkRateLimitRefusing',
        'GroundworkBudgetNearLimit',
        'GroundworkJobQueueStuck',
      ]),
    );
    const exposed = await exposedSeries();
    for (const rule of rules)
      for (const name of referencedSeries(rule.expr)) expect(exposed, `${rule.alert} reads ${name}`).toContain(name);
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    schemaVersion: number;
    panels: Array<{
      id: number;
      type: string;
      title: string;
      gridPos: { x: number; y: number; w: number; h: number };
      targets?: Array<{ expr: string }>;
    }>;
  };

  it('loads as a dashboard: unique ids, panels on the 24-column grid without overlap, a query each', () => {
    expect(dashboard.uid).toBe('groundwork-overview');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    const taken = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let column = x; column < x + w; column++) {
        for (let line = y; line < y + h; line++) {
          expect(taken.has(`${column},${line}`), `${panel.title} overlaps another panel`).toBe(false);
          taken.add(`${column},${line}`);
        }
      }
      if (panel.type !== 'row') expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics Groundwork exposes', async () => {
    const exposed = await exposedSeries();
    const used = dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => referencedSeries(target.expr)));
    expect(used.length).toBeGreaterThan(10);
    for (const name of used) expect(exposed).toContain(name);
  });
});
