import { useState } from 'preact/hooks';
import type { CallDetail, CallRow } from '../../src/dashboard/dashboard-wire.js';
import { formatCount, formatMs, formatOutcome, formatTime, formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Card, Empty, ErrorNote, Loading } from './widgets.js';

/** The request's messages, one block per message, from the JSON the ledger keeps. */
function Messages(props: { json: string }) {
  let messages: Array<{ role?: string; content?: unknown }>;
  try {
    const parsed: unknown = JSON.parse(props.json);
    messages = Array.isArray(parsed) ? (parsed as typeof messages) : [{ content: props.json }];
  } catch {
    // Cut at its length limit: shown as it is.
    messages = [{ content: props.json }];
  }
  return (
    <div class="messages">
      {messages.map((message) => (
        <div class="message">
          <div class="message-role">{message.role ?? 'text'}</div>
          <pre class="message-text">{textOf(message.content)}</pre>
        </div>
      ))}
    </div>
  );
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part: { type?: string; text?: string }) => (typeof part?.text === 'string' ? part.text : `[${part?.type ?? 'part'}]`))
      .join('\n');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

/** One call's detail, under its row: ids, and the prompt and answer when the service records them. */
function CallDetailRow(props: { id: number }) {
  const { data, error, reload } = useData<CallDetail>(`calls/${props.id}`);
  return (
    <tr class="detail-row">
      <td colSpan={9}>
        <ErrorNote error={error} />
        {data === undefined ? (
          <Loading error={error} retry={reload} />
        ) : (
          <div class="call-detail" data-testid="call-detail">
            <p class="muted small">
              {data.operation} · request {data.requestId ?? '–'} · call #{data.id}
            </p>
            {data.contentLogged ? (
              <div class="detail-columns">
                <div>
                  <h3>Prompt</h3>
                  {data.promptText === null ? <p class="muted">Not recorded for this call.</p> : <Messages json={data.promptText} />}
                </div>
                <div>
                  <h3>Answer</h3>
                  {data.answerText === null ? (
                    <p class="muted">{noAnswer(data.outcome)}</p>
                  ) : (
                    <pre class="message-text" data-testid="call-answer">
                      {data.answerText}
                    </pre>
                  )}
                </div>
              </div>
            ) : (
              <p class="muted" data-testid="call-content-off">
                Prompt and answer text are recorded only when the service runs with LLM_LOG_CONTENT=true.
              </p>
            )}
          </div>
        )}
      </td>
    </tr>
  );
}

/** Why a row has no answer text: the ledger keeps it on the last row of a call only. */
function noAnswer(outcome: string): string {
  if (outcome === 'continued') return "An earlier turn of a call: the call's answer is on its last row.";
  return outcome === 'success' ? 'No answer text recorded.' : 'No answer text: the call failed.';
}

/** How a row's outcome is shown: a success, a turn its call went on from, or (any other code) a failure. */
const OUTCOME_CLASS: Readonly<Record<string, string>> = { success: 'ok', continued: 'continued' };
const OUTCOME_MARK: Readonly<Record<string, string>> = { success: '✓', continued: '↻' };

export function CallsPage() {
  const [open, setOpen] = useState<number | null>(null);
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
  const { data, error, reload } = useData<{ data: CallRow[]; next: number | null }>(`calls?${query}`);
  return (
    <div class="page">
      <div class="page-header">
        <h1>Calls</h1>
      </div>
      <Card
        title="Recent calls"
        subtitle="Newest first, from the usage ledger: one row per model turn, a tool loop's earlier turns marked continued"
        wide
      >
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
          <Loading error={error} retry={reload} />
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
                {data.data.map((call) => [
                  <tr
                    class={`clickable${open === call.id ? ' open' : ''}`}
                    onClick={() => setOpen(open === call.id ? null : call.id)}
                    data-testid={`call-${call.id}`}
                  >
                    <td class="nowrap">
                      {/* The row opens on a click anywhere; this button opens it from the keyboard (its click reaches the row). */}
                      <button type="button" class="row-toggle" aria-expanded={open === call.id}>
                        {formatTime(call.createdAt)}
                      </button>
                    </td>
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
                      <span class={`outcome ${OUTCOME_CLASS[call.outcome] ?? 'failed'}`}>
                        <span aria-hidden="true">{OUTCOME_MARK[call.outcome] ?? '✕'}</span> {formatOutcome(call.outcome)}
                      </span>
                      {call.cacheHit ? <span class="tag">cached</span> : null}
                    </td>
                    <td class="num">{call.attempts}</td>
                  </tr>,
                  open === call.id ? <CallDetailRow id={call.id} /> : null,
                ])}
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
