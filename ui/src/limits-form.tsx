import { useState } from 'preact/hooks';
import type { TenantLimits } from '../../src/dashboard/dashboard-wire.js';

/** What the form edits: a key's or team's name, limits and budgets, and a key's team and expiry. */
export interface LimitsValue extends TenantLimits {
  name: string;
  /** Keys only: the team's id (or name), null for none. */
  teamId?: string | null;
  /** Keys only: ISO 8601, null for never. */
  expiresAt?: string | null;
}

const FIELDS: Array<[keyof TenantLimits, string, string]> = [
  ['dailyBudgetUsd', 'Daily budget (USD)', 'decimal'],
  ['monthlyBudgetUsd', 'Monthly budget (USD)', 'decimal'],
  ['totalBudgetUsd', 'Total budget (USD)', 'decimal'],
  ['requestsPerMinute', 'Requests per minute', 'numeric'],
  ['tokensPerMinute', 'Tokens per minute', 'numeric'],
  ['maxConcurrent', 'Concurrent calls', 'numeric'],
];

/** Plain decimal text: digits, with a sign and a fraction at most (not `Infinity`, `1e3` or `0x10`). */
const PLAIN_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * A field's text as the number the service checks, when it is plain decimal text of a finite
 * number; any other text as it is, so that the service names the field. `Number()` alone would
 * read "Infinity" (or "1e999") as a number JSON sends as null, no limit, and "0x10" as 16.
 */
function numberOrText(value: string): number | string {
  const number = Number(value);
  return PLAIN_DECIMAL.test(value) && Number.isFinite(number) ? number : value;
}

const text = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));

/**
 * The form that creates or edits a key or team: every limit and budget at once. An empty field
 * means no limit. Editing, it sends only the fields changed. The service checks the values and
 * names every bad one.
 */
export function LimitsForm(props: {
  kind: 'key' | 'team';
  initial?: LimitsValue | undefined;
  teams?: Array<{ id: string; name: string }>;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
}) {
  const initial = props.initial;
  const [name, setName] = useState(initial?.name ?? '');
  const [numbers, setNumbers] = useState<Record<string, string>>(
    Object.fromEntries(FIELDS.map(([field]) => [field, text(initial?.[field] as number | null | undefined)])),
  );
  const [models, setModels] = useState(initial?.allowedModels?.join(', ') ?? '');
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  const [team, setTeam] = useState(initial?.teamId ?? '');
  const [expires, setExpires] = useState(initial?.expiresAt?.slice(0, 10) ?? '');
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    // Editing, only what changed is sent: a field left alone keeps its value exactly (an expiry
    // at 09:00 is not moved to the end of its day by a change of budget).
    const body: Record<string, unknown> = {};
    const edited = (now: string, before: string) => initial === undefined || now !== before;
    if (edited(name.trim(), initial?.name ?? '')) body['name'] = name.trim();
    for (const [field] of FIELDS) {
      const value = numbers[field]?.trim() ?? '';
      if (!edited(value, text(initial?.[field] as number | null | undefined))) continue;
      body[field] = value === '' ? null : numberOrText(value);
    }
    const list = models
      .split(',')
      .map((model) => model.trim())
      .filter((model) => model !== '');
    if (edited(list.join(', '), initial?.allowedModels?.join(', ') ?? '')) body['allowedModels'] = list.length === 0 ? null : list;
    if (initial === undefined || enabled !== (initial.enabled ?? true)) body['enabled'] = enabled;
    if (props.kind === 'key') {
      if (edited(team, initial?.teamId ?? '')) body['team'] = team === '' ? null : team;
      if (edited(expires, initial?.expiresAt?.slice(0, 10) ?? '')) body['expiresAt'] = expires === '' ? null : `${expires}T23:59:59.000Z`;
    }
    setBusy(true);
    try {
      await props.onSubmit(body);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="limits-form"
      data-testid={`${props.kind}-form`}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label class="field wide-field">
        <span>Name</span>
        <input
          aria-label={props.kind === 'key' ? 'Key name' : 'Team name'}
          placeholder={props.kind === 'key' ? 'e.g. billing-service' : 'e.g. search'}
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
          required
        />
      </label>
      {FIELDS.map(([field, label, mode]) => (
        <label class="field">
          <span>{label}</span>
          <input
            aria-label={label}
            inputMode={mode as 'decimal' | 'numeric'}
            placeholder="no limit"
            value={numbers[field] ?? ''}
            onInput={(event) => setNumbers({ ...numbers, [field]: event.currentTarget.value })}
          />
        </label>
      ))}
      <label class="field wide-field">
        <span>Allowed models</span>
        <input
          aria-label="Allowed models"
          placeholder="any model (or a comma-separated list)"
          value={models}
          onInput={(event) => setModels(event.currentTarget.value)}
        />
      </label>
      {props.kind === 'key' ? (
        <>
          <label class="field">
            <span>Team</span>
            <select aria-label="Team" value={team} onChange={(event) => setTeam(event.currentTarget.value)}>
              <option value="">No team</option>
              {(props.teams ?? []).map((option) => (
                <option value={option.id}>{option.name}</option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Expires (end of day, UTC)</span>
            <input aria-label="Expires" type="date" value={expires} onInput={(event) => setExpires(event.currentTarget.value)} />
          </label>
        </>
      ) : null}
      <label class="check field">
        <input type="checkbox" aria-label="Enabled" checked={enabled} onChange={(event) => setEnabled(event.currentTarget.checked)} />
        Enabled
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel === undefined ? null : (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
