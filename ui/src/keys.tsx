import { useState } from 'preact/hooks';
import type { KeyRow, Spend, TeamRow, TenantLimits } from '../../src/dashboard/dashboard-wire.js';
import { patch, post, remove } from './api.js';
import { formatCompact, formatCount, formatUsd } from './format.js';
import { LimitsForm } from './limits-form.js';
import { useData } from './use-data.js';
import { Bar, Card, Empty, ErrorNote, Loading, StateBadge } from './widgets.js';

/** One bar per budget set (today, this month, in all), each with its figures written beside it. */
function BudgetBars(props: { row: TenantLimits & { spend: Spend } }) {
  const { row } = props;
  const budgets: Array<[string, number | null, number]> = [
    ['day', row.dailyBudgetUsd, row.spend.dayUsd],
    ['month', row.monthlyBudgetUsd, row.spend.monthUsd],
    ['total', row.totalBudgetUsd, row.spend.totalUsd],
  ];
  const set = budgets.filter(([, budget]) => budget !== null);
  if (set.length === 0) return <span class="muted small">{formatUsd(row.spend.monthUsd)} this month · no budget</span>;
  return (
    <div class="budget-bars">
      {set.map(([period, budget, spent]) => {
        const share = budget === 0 ? 1 : spent / (budget ?? 1);
        return (
          <Bar
            share={share}
            label={`${formatUsd(spent)} of ${formatUsd(budget ?? 0)} / ${period}`}
            {...(share >= 1 ? { tone: 'bad' as const } : share >= 0.8 ? { tone: 'warn' as const } : {})}
          />
        );
      })}
    </div>
  );
}

/** The limits set, in a few words. */
function limitsText(row: TenantLimits): string {
  const parts: string[] = [];
  if (row.requestsPerMinute !== null) parts.push(`${formatCount(row.requestsPerMinute)} req/min`);
  if (row.tokensPerMinute !== null) parts.push(`${formatCompact(row.tokensPerMinute)} tok/min`);
  if (row.maxConcurrent !== null) parts.push(`${formatCount(row.maxConcurrent)} at once`);
  if (row.allowedModels !== null) parts.push(row.allowedModels.join(', '));
  return parts.length === 0 ? 'no limits' : parts.join(' · ');
}

export function KeysPage(props: { tenants: boolean }) {
  const keys = useData<{ data: KeyRow[] }>('keys');
  const teams = useData<{ data: TeamRow[] }>('teams');
  const [issued, setIssued] = useState<{ name: string; plainKey: string } | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  /** What is open: `new-key`, `new-team`, `key:{id}` or `team:{id}`. */
  const [open, setOpen] = useState<string | undefined>(undefined);
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
      setOpen(undefined);
      keys.reload();
      teams.reload();
    } catch (error) {
      setFailure(error);
    }
  };
  const teamList = teams.data?.data ?? [];
  const teamName = (id: string | null) => (id === null ? null : (teamList.find((team) => team.id === id)?.name ?? id));
  return (
    <div class="page">
      <div class="page-header">
        <h1>Keys and teams</h1>
      </div>
      <ErrorNote error={failure ?? keys.error ?? teams.error} />
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
        <Card
          title="Keys"
          subtitle="Spend from the usage ledger against each key's budgets"
          wide
          actions={
            <button type="button" class="primary" onClick={() => setOpen(open === 'new-key' ? undefined : 'new-key')}>
              New key
            </button>
          }
        >
          {open === 'new-key' ? (
            <LimitsForm
              kind="key"
              teams={teamList}
              submitLabel="Create key"
              onCancel={() => setOpen(undefined)}
              onSubmit={(body) =>
                act(async () => {
                  const answer = await post<{ key: { name: string }; plainKey: string }>('keys', body);
                  setIssued({ name: answer.key.name, plainKey: answer.plainKey });
                })
              }
            />
          ) : null}
          {keys.data === undefined ? (
            <Loading error={keys.error} retry={keys.reload} />
          ) : keys.data.data.length === 0 ? (
            <Empty>No keys yet.</Empty>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="keys">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Status</th>
                    <th>Limits</th>
                    <th class="spend-col">Spend</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {keys.data.data.map((key) => [
                    <tr data-testid={`key-${key.name}`}>
                      <td>
                        {key.name}
                        <div class="muted small">
                          <code>{key.prefix}…</code>
                          {key.teamId === null ? null : ` · team ${teamName(key.teamId)}`}
                          {key.expiresAt === null ? null : ` · expires ${key.expiresAt.slice(0, 10)}`}
                        </div>
                      </td>
                      <td>
                        <StateBadge state={key.status} />
                      </td>
                      <td class="small">{limitsText(key)}</td>
                      <td class="spend-col">
                        <BudgetBars row={key} />
                      </td>
                      <td class="actions">
                        {key.status === 'revoked' ? null : (
                          <>
                            <button type="button" onClick={() => setOpen(open === `key:${key.id}` ? undefined : `key:${key.id}`)}>
                              Edit
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
                    </tr>,
                    open === `key:${key.id}` ? (
                      <tr class="detail-row">
                        <td colSpan={5}>
                          <LimitsForm
                            kind="key"
                            initial={key}
                            teams={teamList}
                            submitLabel="Save"
                            onCancel={() => setOpen(undefined)}
                            onSubmit={(body) => act(() => patch(`keys/${encodeURIComponent(key.id)}`, body))}
                          />
                        </td>
                      </tr>
                    ) : null,
                  ])}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card
          title="Teams"
          subtitle="Budgets and limits that bound all of a team's keys together"
          wide
          actions={
            <button type="button" onClick={() => setOpen(open === 'new-team' ? undefined : 'new-team')}>
              New team
            </button>
          }
        >
          {open === 'new-team' ? (
            <LimitsForm
              kind="team"
              submitLabel="Create team"
              onCancel={() => setOpen(undefined)}
              onSubmit={(body) => act(() => post('teams', body))}
            />
          ) : null}
          {teams.data === undefined ? (
            <Loading error={teams.error} retry={teams.reload} />
          ) : teamList.length === 0 ? (
            <Empty>No teams yet.</Empty>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="teams">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Limits</th>
                    <th class="spend-col">Spend</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {teamList.map((team) => [
                    <tr data-testid={`team-${team.name}`}>
                      <td>
                        {team.name}
                        {team.enabled ? null : <div class="muted small">disabled</div>}
                      </td>
                      <td class="small">{limitsText(team)}</td>
                      <td class="spend-col">
                        <BudgetBars row={team} />
                      </td>
                      <td class="actions">
                        <button type="button" onClick={() => setOpen(open === `team:${team.id}` ? undefined : `team:${team.id}`)}>
                          Edit
                        </button>
                      </td>
                    </tr>,
                    open === `team:${team.id}` ? (
                      <tr class="detail-row">
                        <td colSpan={4}>
                          <LimitsForm
                            kind="team"
                            initial={team}
                            submitLabel="Save"
                            onCancel={() => setOpen(undefined)}
                            onSubmit={(body) => act(() => patch(`teams/${encodeURIComponent(team.id)}`, body))}
                          />
                        </td>
                      </tr>
                    ) : null,
                  ])}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      </div>
    </div>
  );
}
