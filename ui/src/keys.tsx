import { useState } from 'preact/hooks';
import { patch, post, remove } from './api.js';
import { formatUsd } from './format.js';
import { useData } from './use-data.js';
import { Bar, Card, Empty, ErrorNote, StateBadge } from './widgets.js';

interface Spend {
  dayUsd: number;
  monthUsd: number;
  totalUsd: number;
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  teamId: string | null;
  status: string;
  dailyBudgetUsd: number | null;
  monthlyBudgetUsd: number | null;
  totalBudgetUsd: number | null;
  requestsPerMinute: number | null;
  spend: Spend;
}

interface TeamRow {
  id: string;
  name: string;
  monthlyBudgetUsd: number | null;
  spend: Spend;
}

/** Spend against the tightest budget set: this month's, else today's, else the total. */
function budgetBar(row: { monthlyBudgetUsd: number | null; dailyBudgetUsd?: number | null; totalBudgetUsd?: number | null; spend: Spend }) {
  const [spent, budget, period] =
    row.monthlyBudgetUsd !== null
      ? [row.spend.monthUsd, row.monthlyBudgetUsd, 'month']
      : row.dailyBudgetUsd != null
        ? [row.spend.dayUsd, row.dailyBudgetUsd, 'day']
        : row.totalBudgetUsd != null
          ? [row.spend.totalUsd, row.totalBudgetUsd, 'total']
          : [row.spend.monthUsd, null, 'month'];
  if (budget === null) return <span class="muted small">{formatUsd(spent)} this month · no budget</span>;
  const share = budget === 0 ? 1 : spent / budget;
  return (
    <Bar
      share={share}
      label={`${formatUsd(spent)} of ${formatUsd(budget)} / ${period}`}
      {...(share >= 1 ? { tone: 'bad' as const } : share >= 0.8 ? { tone: 'warn' as const } : {})}
    />
  );
}

function numberOrNull(value: string): number | null {
  return value.trim() === '' ? null : Number(value);
}

export function KeysPage(props: { tenants: boolean }) {
  const keys = useData<{ data: KeyRow[] }>('keys');
  const teams = useData<{ data: TeamRow[] }>('teams');
  const [name, setName] = useState('');
  const [budget, setBudget] = useState('');
  const [issued, setIssued] = useState<{ name: string; plainKey: string } | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [editBudget, setEditBudget] = useState('');
  if (!props.tenants) {
    return (
      <div class="page">
        <h1>Keys and teams</h1>
        <Card title="Virtual keys are off">
          <p>
            Set <code>GROUNDWORK_VIRTUAL_KEYS=true</code> to issue keys with their own budgets and limits, and manage them here.
          </p>
        </Card>
      </div>
    );
  }
  const act = async (work: () => Promise<unknown>) => {
    try {
      setFailure(undefined);
      await work();
      keys.reload();
      teams.reload();
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <div class="page">
      <div class="page-header">
        <h1>Keys and teams</h1>
      </div>
      <ErrorNote error={failure ?? keys.error} />
      {issued === undefined ? null : (
        <div class="callout" role="status" data-testid="issued-key">
          <strong>Key “{issued.name}” created.</strong> Copy it now: it is shown this once.
          <code class="plain-key" data-testid="plain-key">
            {issued.plainKey}
          </code>
          <button type="button" onClick={() => setIssued(undefined)}>
            Done
          </button>
        </div>
      )}
      <div class="grid">
        <Card title="New key" wide>
          <form
            class="toolbar"
            onSubmit={(event) => {
              event.preventDefault();
              void act(async () => {
                const body: Record<string, unknown> = { name: name.trim() };
                const monthly = numberOrNull(budget);
                if (monthly !== null) body['monthlyBudgetUsd'] = monthly;
                const answer = await post<{ key: { name: string }; plainKey: string }>('keys', body);
                setIssued({ name: answer.key.name, plainKey: answer.plainKey });
                setName('');
                setBudget('');
              });
            }}
          >
            <input
              aria-label="Key name"
              placeholder="Name, e.g. billing-service"
              value={name}
              onInput={(event) => setName(event.currentTarget.value)}
              required
            />
            <input
              aria-label="Monthly budget (USD)"
              placeholder="Monthly budget, USD (optional)"
              inputMode="decimal"
              value={budget}
              onInput={(event) => setBudget(event.currentTarget.value)}
            />
            <button type="submit" class="primary">
              Create key
            </button>
          </form>
        </Card>
        <Card title="Keys" subtitle="Spend from the usage ledger against each key's budget" wide>
          {keys.data === undefined ? (
            <p class="muted">Loading…</p>
          ) : keys.data.data.length === 0 ? (
            <Empty>No keys yet.</Empty>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="keys">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Key</th>
                    <th>Status</th>
                    <th class="spend-col">Spend</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {keys.data.data.map((key) => (
                    <tr data-testid={`key-${key.name}`}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>
                        <StateBadge state={key.status} />
                      </td>
                      <td class="spend-col">
                        {editing === key.id ? (
                          <form
                            class="inline-form"
                            onSubmit={(event) => {
                              event.preventDefault();
                              void act(async () => {
                                await patch(`keys/${encodeURIComponent(key.id)}`, { monthlyBudgetUsd: numberOrNull(editBudget) });
                                setEditing(undefined);
                              });
                            }}
                          >
                            <input
                              aria-label="Monthly budget (USD)"
                              value={editBudget}
                              inputMode="decimal"
                              onInput={(event) => setEditBudget(event.currentTarget.value)}
                            />
                            <button type="submit">Save</button>
                          </form>
                        ) : (
                          budgetBar(key)
                        )}
                      </td>
                      <td class="actions">
                        {key.status === 'revoked' ? null : (
                          <>
                            <button
                              type="button"
                              onClick={() => {
                                setEditing(key.id);
                                setEditBudget(key.monthlyBudgetUsd === null ? '' : String(key.monthlyBudgetUsd));
                              }}
                            >
                              Budget
                            </button>
                            {confirming === key.id ? (
                              <button
                                type="button"
                                class="danger"
                                onClick={() =>
                                  void act(async () => {
                                    await remove(`keys/${encodeURIComponent(key.id)}`);
                                    setConfirming(undefined);
                                  })
                                }
                              >
                                Confirm revoke
                              </button>
                            ) : (
                              <button type="button" onClick={() => setConfirming(key.id)}>
                                Revoke
                              </button>
                            )}
                          </>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Teams" wide>
          {teams.data === undefined || teams.data.data.length === 0 ? (
            <Empty>
              No teams. Create them with <code>groundwork teams create</code> or the admin API.
            </Empty>
          ) : (
            <table class="table">
              <tbody>
                {teams.data.data.map((team) => (
                  <tr>
                    <td>{team.name}</td>
                    <td class="spend-col">{budgetBar(team)}</td>
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
