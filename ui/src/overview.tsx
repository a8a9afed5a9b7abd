import { useMemo, useState } from 'preact/hooks';
import type { OutcomeKind, OverviewAnswer } from '../../src/dashboard/dashboard-wire.js';
import { TimeChart } from './chart.js';
import { formatCompact, formatCount, formatMs, formatPercent, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Bar, Card, Empty, ErrorNote, Kpi, Loading } from './widgets.js';

type Overview = OverviewAnswer;

const RANGES = [
  ['hour', 'Last hour'],
  ['day', 'Last 24 hours'],
  ['week', 'Last 7 days'],
  ['month', 'Last 30 days'],
] as const;

const KINDS: Array<[OutcomeKind, string]> = [
  ['rate_limited', 'Rate-limited'],
  ['timeout', 'Timeout'],
  ['provider', 'Provider 5xx'],
  ['breaker', 'Breaker open'],
  ['budget', 'Budget'],
  ['other', 'Other'],
];

const DIMENSIONS: Array<[string, string]> = [
  ['model', 'Model'],
  ['provider', 'Provider'],
  ['prompt', 'Prompt'],
  ['key', 'Key'],
];

export function OverviewPage() {
  const [range, setRange] = useState('day');
  const [dimension, setDimension] = useState('model');
  const { data, error, reload } = useData<Overview>(`overview?range=${range}`, 30_000);
  const charts = useMemo(() => {
    if (data === undefined) return undefined;
    const times = data.usage.map((point) => point.t);
    const kinds = KINDS.filter(([kind]) => data.errors.some((point) => (point[kind] ?? 0) > 0));
    return {
      times,
      calls: [
        { label: 'Calls', values: data.usage.map((point) => point.calls), format: formatCount },
        { label: 'Failed', values: data.usage.map((point) => point.failures), format: formatCount },
      ],
      cost: [{ label: 'Cost', values: data.usage.map((point) => point.costUsd), format: formatUsd }],
      tokens: [{ label: 'Tokens', values: data.usage.map((point) => point.tokens), format: formatCount }],
      latency: [
        { label: 'p50', values: data.latency.map((point) => point.p50), format: formatMs },
        { label: 'p95', values: data.latency.map((point) => point.p95), format: formatMs },
      ],
      errors: kinds.map(([kind, label]) => ({ label, values: data.errors.map((point) => point[kind] ?? 0), format: formatCount })),
    };
  }, [data]);
  const rows = data?.breakdown[dimension] ?? [];
  const others = data?.others[dimension] ?? null;
  const maxCost = Math.max(...rows.map((row) => row.costUsd), 0);
  return (
    <div class="page">
      <div class="page-header">
        <h1>Overview</h1>
        <fieldset class="segmented" aria-label="Period">
          {RANGES.map(([name, label]) => (
            <button type="button" class={range === name ? 'active' : ''} aria-pressed={range === name} onClick={() => setRange(name)}>
              {label}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={error} />
      {data === undefined || charts === undefined ? (
        <Loading error={error} retry={reload} />
      ) : (
        <>
          <div class="kpis">
            <Kpi label="Calls" value={formatCount(data.totals.calls)} testId="kpi-calls" />
            <Kpi label="Spend" value={formatUsd(data.totals.costUsd)} testId="kpi-cost" />
            <Kpi label="Tokens" value={formatCount(data.totals.tokens)} hint={formatCompact(data.totals.tokens)} testId="kpi-tokens" />
            <Kpi
              label="Failure rate"
              value={formatPercent(data.totals.calls === 0 ? null : data.totals.failures / data.totals.calls)}
              hint={`${formatCount(data.totals.failures)} failed`}
              testId="kpi-failures"
              {...(data.totals.failures > 0 ? { tone: 'bad' as const } : {})}
            />
          </div>
          <div class="grid">
            <Card title="Calls" subtitle="Calls and failed calls per interval (a tool loop once, however many turns)">
              <TimeChart times={charts.times} series={charts.calls} yFormat={formatCompact} testId="chart-calls" />
            </Card>
            <Card title="Spend" subtitle="USD per interval">
              <TimeChart times={charts.times} series={charts.cost} yFormat={formatUsd} testId="chart-cost" />
            </Card>
            <Card title="Latency" subtitle="p50 and p95 per interval">
              <TimeChart times={charts.times} series={charts.latency} yFormat={formatMs} testId="chart-latency" />
            </Card>
            <Card title="Errors by kind" subtitle="Failed calls per interval">
              {charts.errors.length === 0 ? (
                <Empty>No failed calls in this period.</Empty>
              ) : (
                <TimeChart times={charts.times} series={charts.errors} yFormat={formatCompact} testId="chart-errors" />
              )}
            </Card>
            <Card
              title="Where the spend goes"
              wide
              actions={
                <fieldset class="segmented small" aria-label="Split by">
                  {DIMENSIONS.map(([name, label]) => (
                    <button
                      type="button"
                      class={dimension === name ? 'active' : ''}
                      aria-pressed={dimension === name}
                      onClick={() => setDimension(name)}
                    >
                      {label}
                    </button>
                  ))}
                </fieldset>
              }
            >
              {rows.length === 0 ? (
                <Empty>No calls in this period.</Empty>
              ) : (
                <div class="scroll">
                  <table class="table breakdown" data-testid="breakdown">
                    <thead>
                      <tr>
                        <th>{DIMENSIONS.find(([name]) => name === dimension)?.[1]}</th>
                        <th class="num">Calls</th>
                        <th class="num">Tokens</th>
                        <th class="num">Failed</th>
                        <th class="spend-col">Spend</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((row) => (
                        <tr>
                          <td>{row.label ?? row.group ?? <span class="muted">(none)</span>}</td>
                          <td class="num">{formatCount(row.calls)}</td>
                          <td class="num">{formatCompact(row.tokens)}</td>
                          <td class="num">{formatCount(row.failures)}</td>
                          <td class="spend-col">
                            <Bar share={maxCost === 0 ? 0 : row.costUsd / maxCost} label={formatUsd(row.costUsd)} />
                          </td>
                        </tr>
                      ))}
                      {others === null ? null : (
                        <tr class="others-row" data-testid="breakdown-others">
                          <td class="muted">
                            {formatCount(others.groups)} more {others.groups === 1 ? 'group' : 'groups'}
                          </td>
                          <td class="num">{formatCount(others.calls)}</td>
                          <td class="num">{formatCompact(others.tokens)}</td>
                          <td class="num">{formatCount(others.failures)}</td>
                          {/* No bar: the sum of several groups is not one group's share. */}
                          <td class="spend-col">{formatUsd(others.costUsd)}</td>
                        </tr>
                      )}
                    </tbody>
                  </table>
                </div>
              )}
            </Card>
          </div>
        </>
      )}
    </div>
  );
}
