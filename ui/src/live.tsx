import { formatCount, formatMs, formatPercent, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Card, Empty, ErrorNote, Kpi, StateBadge } from './widgets.js';

interface Live {
  at: string;
  breakers: Array<{ provider: string; model: string; state: string; consecutiveFailures: number; nextProbeAt: string | null }>;
  inFlight: Record<string, number>;
  cache: { lookups: Record<string, number>; hitRate: number | null };
  limits: Array<{ provider: string; model: string; waits: Record<string, number>; waitedSeconds: number }>;
  refusals: Record<string, number>;
  recent: { calls: number; failures: number; costUsd: number };
  health: { status: string; dependencies: Array<{ name: string; status: string; latencyMs: number; required: boolean; detail?: string }> };
}

function untilText(iso: string | null, at: string): string {
  if (iso === null) return '–';
  const seconds = Math.max(0, Math.round((new Date(iso).getTime() - new Date(at).getTime()) / 1000));
  return seconds === 0 ? 'now' : `in ${seconds} s`;
}

export function LivePage() {
  const { data, error } = useData<Live>('live', 3000);
  if (data === undefined)
    return (
      <div class="page">
        <h1>Live</h1>
        <ErrorNote error={error} />
        <p class="muted">Loading…</p>
      </div>
    );
  const inFlight = Object.values(data.inFlight).reduce((sum, count) => sum + count, 0);
  const refusals = Object.entries(data.refusals).filter(([, count]) => count > 0);
  return (
    <div class="page">
      <div class="page-header">
        <h1>Live</h1>
        <span class="muted small" data-testid="live-updated">
          <span class="pulse" aria-hidden="true" /> Updated {new Date(data.at).toLocaleTimeString('en-GB')} · every 3 s
        </span>
      </div>
      <ErrorNote error={error} />
      <div class="kpis">
        <Kpi label="In flight" value={formatCount(inFlight)} testId="live-in-flight" />
        <Kpi
          label="Calls, last 5 min"
          value={formatCount(data.recent.calls)}
          hint={`${formatCount(data.recent.failures)} failed · ${formatUsd(data.recent.costUsd)}`}
          testId="live-recent"
        />
        <Kpi
          label="Cache hit rate"
          value={formatPercent(data.cache.hitRate)}
          hint={`${formatCount(Object.values(data.cache.lookups).reduce((a, b) => a + b, 0))} lookups`}
          testId="live-cache"
        />
        <Kpi
          label="Health"
          value={data.health.status}
          testId="live-health"
          {...(data.health.status === 'ok' ? {} : { tone: 'bad' as const })}
        />
      </div>
      <div class="grid">
        <Card title="Circuit breakers" subtitle="Per provider and model; an open circuit refuses calls until its next probe" wide>
          {data.breakers.length === 0 ? (
            <Empty>No provider called yet.</Empty>
          ) : (
            <table class="table" data-testid="breakers">
              <thead>
                <tr>
                  <th>Provider</th>
                  <th>Model</th>
                  <th>State</th>
                  <th class="num">Consecutive failures</th>
                  <th>Next probe</th>
                </tr>
              </thead>
              <tbody>
                {data.breakers.map((breaker) => (
                  <tr data-testid={`breaker-${breaker.provider}-${breaker.model}`}>
                    <td>{breaker.provider}</td>
                    <td>{breaker.model}</td>
                    <td>
                      <StateBadge state={breaker.state} />
                    </td>
                    <td class="num">{formatCount(breaker.consecutiveFailures)}</td>
                    <td>{untilText(breaker.nextProbeAt, data.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Dependencies" subtitle="Local checks, no provider request">
          <table class="table">
            <tbody>
              {data.health.dependencies.map((dependency) => (
                <tr>
                  <td>
                    {dependency.name}
                    {dependency.detail === undefined ? null : <div class="muted small">{dependency.detail}</div>}
                  </td>
                  <td>
                    <StateBadge state={dependency.status} />
                  </td>
                  <td class="num">{formatMs(dependency.latencyMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Rate limits and refusals" subtitle="Since the process started">
          {data.limits.length === 0 && refusals.length === 0 ? (
            <Empty>No call has waited for a permit or been refused.</Empty>
          ) : (
            <table class="table">
              <tbody>
                {data.limits.map((limit) => (
                  <tr>
                    <td>
                      {limit.provider} / {limit.model}
                    </td>
                    <td>
                      {Object.entries(limit.waits)
                        .map(([bucket, count]) => `${formatCount(count)} waited for ${bucket}`)
                        .join(', ')}
                    </td>
                    <td class="num">{limit.waitedSeconds.toFixed(1)} s</td>
                  </tr>
                ))}
                {refusals.map(([reason, count]) => (
                  <tr>
                    <td>Refused: {reason.replace(/_/g, ' ')}</td>
                    <td />
                    <td class="num">{formatCount(count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </div>
  );
}
