import type { LiveBucket, LiveKeyBucket, LiveState } from '../../src/dashboard/dashboard-wire.js';
import { formatCount, formatMs, formatPercent, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Bar, Card, Empty, ErrorNote, Kpi, Loading, StateBadge } from './widgets.js';

type Live = LiveState;

function untilText(iso: string | null, at: string): string {
  if (iso === null) return '–';
  const seconds = Math.max(0, Math.round((new Date(iso).getTime() - new Date(at).getTime()) / 1000));
  return seconds === 0 ? 'now' : `in ${seconds} s`;
}

/** A bucket's level as a bar with the number beside it; a bucket running low turns amber, then red. */
function BucketBar(props: { bucket: LiveBucket | null }) {
  const bucket = props.bucket;
  if (bucket === null) return <span class="muted">no limit</span>;
  const share = Math.max(0, bucket.level) / bucket.capacity;
  return (
    <Bar
      share={share}
      label={`${formatCount(Math.max(0, bucket.level))} of ${formatCount(bucket.capacity)}`}
      {...(share < 0.1 ? { tone: 'bad' as const } : share < 0.3 ? { tone: 'warn' as const } : {})}
    />
  );
}

function KeyBucketBar(props: { bucket: LiveKeyBucket | null }) {
  const bucket = props.bucket;
  return <BucketBar bucket={bucket === null ? null : { level: bucket.remaining, capacity: bucket.limit, windowMs: 60_000 }} />;
}

export function LivePage() {
  const { data, error, reload } = useData<Live>('live', 3000);
  if (data === undefined)
    return (
      <div class="page">
        <h1>Live</h1>
        <ErrorNote error={error} />
        <Loading error={error} retry={reload} />
      </div>
    );
  const inFlight = Object.values(data.inFlight).reduce((sum, count) => sum + count, 0);
  const queued = data.concurrency.reduce((sum, provider) => sum + provider.waiting, 0);
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
        <Kpi label="In flight" value={formatCount(inFlight)} hint={`${formatCount(queued)} waiting for a slot`} testId="live-in-flight" />
        <Kpi label="Waiting" value={formatCount(queued)} hint="Calls queued for a concurrency slot" testId="live-queued" />
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
            <div class="scroll">
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
            </div>
          )}
        </Card>
        <Card title="Dependencies" subtitle="Local checks, no provider request">
          <div class="scroll">
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
          </div>
        </Card>
        <Card title="Rate limits" subtitle="Bucket levels now, per provider and model; waits since the process started" wide>
          {data.limits.length === 0 ? (
            <Empty>No provider called yet.</Empty>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="rate-limits">
                <thead>
                  <tr>
                    <th>Provider / model</th>
                    <th class="spend-col">Requests left</th>
                    <th class="spend-col">Tokens left</th>
                    <th class="num">Waiting</th>
                    <th class="num">Waited</th>
                  </tr>
                </thead>
                <tbody>
                  {data.limits.map((limit) => (
                    <tr data-testid={`limit-${limit.provider}-${limit.model}`}>
                      <td>
                        <span class="muted">{limit.provider} / </span>
                        {limit.model}
                      </td>
                      <td>
                        <BucketBar bucket={limit.requests} />
                      </td>
                      <td>
                        <BucketBar bucket={limit.tokens} />
                      </td>
                      <td class="num">{formatCount(limit.waiting)}</td>
                      <td class="num">
                        {formatCount(Object.values(limit.waits).reduce((sum, count) => sum + count, 0))} calls ·{' '}
                        {limit.waitedSeconds.toFixed(1)} s
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Concurrency" subtitle="Calls in flight and waiting for a slot, per provider">
          {data.concurrency.length === 0 ? (
            <Empty>No call in flight yet.</Empty>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="concurrency">
                <thead>
                  <tr>
                    <th>Provider</th>
                    <th class="spend-col">In flight</th>
                    <th class="num">Waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {data.concurrency.map((provider) => (
                    <tr>
                      <td>{provider.provider}</td>
                      <td>
                        <Bar
                          share={provider.active / provider.maxConcurrent}
                          label={`${formatCount(provider.active)} of ${formatCount(provider.maxConcurrent)}`}
                          {...(provider.active >= provider.maxConcurrent ? { tone: 'warn' as const } : {})}
                        />
                      </td>
                      <td class="num">{formatCount(provider.waiting)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Refusals" subtitle="Calls Groundwork refused since the process started">
          {refusals.length === 0 ? (
            <Empty>No call refused.</Empty>
          ) : (
            <div class="scroll">
              <table class="table">
                <tbody>
                  {refusals.map(([reason, count]) => (
                    <tr>
                      <td>{reason.replace(/_/g, ' ')}</td>
                      <td class="num">{formatCount(count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        {data.keyLimits.length === 0 ? null : (
          <Card title="Key rate limits" subtitle="Each key's per-minute buckets now" wide>
            <div class="scroll">
              <table class="table" data-testid="key-limits">
                <thead>
                  <tr>
                    <th>Key</th>
                    <th class="spend-col">Requests left this minute</th>
                    <th class="spend-col">Tokens left this minute</th>
                  </tr>
                </thead>
                <tbody>
                  {data.keyLimits.map((key) => (
                    <tr data-testid={`key-limit-${key.name}`}>
                      <td>{key.name}</td>
                      <td>
                        <KeyBucketBar bucket={key.requests} />
                      </td>
                      <td>
                        <KeyBucketBar bucket={key.tokens} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Card>
        )}
      </div>
    </div>
  );
}
