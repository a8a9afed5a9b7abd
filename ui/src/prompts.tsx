import { useState } from 'preact/hooks';
import type { PromptVersionRow } from '../../src/dashboard/dashboard-wire.js';
import { formatCount, formatMs, formatPercent, formatTime, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Card, Empty, ErrorNote, Loading } from './widgets.js';

type PromptRow = PromptVersionRow;

/** The change from the previous version, as text with an arrow: never colour alone. */
function delta(current: number, previous: number | undefined, format: (value: number) => string) {
  if (previous === undefined || previous === current) return null;
  const up = current > previous;
  return (
    <span class={`delta ${up ? 'up' : 'down'}`}>
      {up ? '▲' : '▼'} {format(Math.abs(current - previous))}
    </span>
  );
}

/** Versions in order: by number where both are numbers ("10" after "9"), else as text. */
const VERSION_ORDER = new Intl.Collator('en', { numeric: true });

/** The row of the same prompt whose version comes last before `row`'s, whatever order the rows are in. */
function versionBefore(rows: readonly PromptRow[], row: PromptRow): PromptRow | undefined {
  if (row.version === null) return undefined;
  let before: PromptRow | undefined;
  for (const other of rows) {
    if (other.name !== row.name || other.version === null || VERSION_ORDER.compare(other.version, row.version) >= 0) continue;
    if (before?.version == null || VERSION_ORDER.compare(other.version, before.version) > 0) before = other;
  }
  return before;
}

export function PromptsPage() {
  const [range, setRange] = useState('week');
  const { data, error, reload } = useData<{ data: PromptRow[] }>(`prompts?range=${range}`);
  const rows = data?.data ?? [];
  return (
    <div class="page">
      <div class="page-header">
        <h1>Prompts</h1>
        <fieldset class="segmented" aria-label="Period">
          {(['day', 'week', 'month'] as const).map((name) => (
            <button type="button" class={range === name ? 'active' : ''} aria-pressed={range === name} onClick={() => setRange(name)}>
              {{ day: 'Last 24 hours', week: 'Last 7 days', month: 'Last 30 days' }[name]}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={error} />
      <Card title="Prompt versions" subtitle="Each version against the one before it (the arrows)" wide>
        {data === undefined ? (
          <Loading error={error} retry={reload} />
        ) : rows.length === 0 ? (
          <Empty>No named prompt called in this period.</Empty>
        ) : (
          <div class="scroll">
            <table class="table" data-testid="prompts">
              <thead>
                <tr>
                  <th>Prompt</th>
                  <th>Version</th>
                  <th class="num">Calls</th>
                  <th class="num">Failure rate</th>
                  <th class="num">Cost / call</th>
                  <th class="num">Mean latency</th>
                  <th class="num">Total cost</th>
                  <th>Last call</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => {
                  const previous = versionBefore(rows, row);
                  return (
                    <tr>
                      <td>{rows[index - 1]?.name === row.name ? '' : row.name}</td>
                      <td>{row.version ?? '–'}</td>
                      <td class="num">{formatCount(row.calls)}</td>
                      <td class="num">
                        {formatPercent(row.failureRate)} {delta(row.failureRate, previous?.failureRate, formatPercent)}
                      </td>
                      <td class="num">
                        {formatUsd(row.costPerCallUsd)} {delta(row.costPerCallUsd, previous?.costPerCallUsd, formatUsd)}
                      </td>
                      <td class="num">
                        {formatMs(row.meanLatencyMs)} {delta(row.meanLatencyMs, previous?.meanLatencyMs, formatMs)}
                      </td>
                      <td class="num">{formatUsd(row.costUsd)}</td>
                      <td class="nowrap">{formatTime(row.lastSeen)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
