import { useState } from 'preact/hooks';
import { formatCount, formatMs, formatOutcome, formatTime, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Card, Empty, ErrorNote } from './widgets.js';

interface CallRow {
  id: number;
  createdAt: string;
  provider: string;
  model: string;
  promptName: string | null;
  promptVersion: string | null;
  keyId: string | null;
  keyName: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  outcome: string;
  attempts: number;
  cacheHit: boolean;
}

export function CallsPage() {
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const [failedOnly, setFailedOnly] = useState(false);
  const [cursors, setCursors] = useState<number[]>([]);
  const before = cursors.at(-1);
  const query = new URLSearchParams({
    limit: '50',
    ...(search === '' ? {} : { search }),
    ...(failedOnly ? { outcome: 'failed' } : {}),
    ...(before === undefined ? {} : { before: String(before) }),
  });
  const { data, error } = useData<{ data: CallRow[]; next: number | null }>(`calls?${query}`);
  return (
    <div class="page">
      <div class="page-header">
        <h1>Calls</h1>
      </div>
      <Card title="Recent calls" subtitle="Newest first, from the usage ledger" wide>
        <form
          class="toolbar"
          onSubmit={(event) => {
            event.preventDefault();
            setSearch(typed.trim());
            setCursors([]);
          }}
        >
          <input
            type="search"
            placeholder="Search model, prompt, key, outcome, request id"
            value={typed}
            onInput={(event) => setTyped(event.currentTarget.value)}
            aria-label="Search calls"
          />
          <label class="check">
            <input
              type="checkbox"
              checked={failedOnly}
              onChange={(event) => {
                setFailedOnly(event.currentTarget.checked);
                setCursors([]);
              }}
            />
            Failed only
          </label>
          <button type="submit">Search</button>
        </form>
        <ErrorNote error={error} />
        {data === undefined ? (
          <p class="muted">Loading…</p>
        ) : data.data.length === 0 ? (
          <Empty>No calls match.</Empty>
        ) : (
          <div class="scroll">
            <table class="table calls" data-testid="calls">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Key</th>
                  <th>Prompt</th>
                  <th>Model</th>
                  <th class="num">Tokens in / out</th>
                  <th class="num">Cost</th>
                  <th class="num">Latency</th>
                  <th>Outcome</th>
                  <th class="num">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {data.data.map((call) => (
                  <tr>
                    <td class="nowrap">{formatTime(call.createdAt)}</td>
                    <td>{call.keyName ?? call.keyId ?? <span class="muted">–</span>}</td>
                    <td>
                      {call.promptName === null ? (
                        <span class="muted">–</span>
                      ) : (
                        `${call.promptName}${call.promptVersion === null ? '' : ` v${call.promptVersion}`}`
                      )}
                    </td>
                    <td>
                      <span class="muted">{call.provider}/</span>
                      {call.model}
                    </td>
                    <td class="num">
                      {formatCount(call.promptTokens)} / {formatCount(call.completionTokens)}
                    </td>
                    <td class="num">{formatUsd(call.costUsd)}</td>
                    <td class="num">{formatMs(call.latencyMs)}</td>
                    <td>
                      <span class={`outcome ${call.outcome === 'success' ? 'ok' : 'failed'}`}>
                        <span aria-hidden="true">{call.outcome === 'success' ? '✓' : '✕'}</span> {formatOutcome(call.outcome)}
                      </span>
                      {call.cacheHit ? <span class="tag">cached</span> : null}
                    </td>
                    <td class="num">{call.attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div class="pager">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Newer
          </button>
          <span class="muted small">Page {cursors.length + 1}</span>
          <button
            type="button"
            disabled={data?.next === null || data?.next === undefined}
            onClick={() => data?.next != null && setCursors([...cursors, data.next])}
          >
            Older →
          </button>
        </div>
      </Card>
    </div>
  );
}
