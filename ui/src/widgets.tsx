import type { ComponentChildren } from 'preact';

export function Card(props: {
  title: string;
  subtitle?: string;
  children: ComponentChildren;
  wide?: boolean;
  actions?: ComponentChildren;
}) {
  return (
    <section class={`card${props.wide ? ' wide' : ''}`}>
      <header class="card-header">
        <div>
          <h2>{props.title}</h2>
          {props.subtitle === undefined ? null : <p class="muted small">{props.subtitle}</p>}
        </div>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function Kpi(props: { label: string; value: string; hint?: string; testId: string; tone?: 'bad' | 'good' }) {
  return (
    <div class={`kpi${props.tone === undefined ? '' : ` ${props.tone}`}`}>
      <div class="kpi-label">{props.label}</div>
      <div class="kpi-value" data-testid={props.testId}>
        {props.value}
      </div>
      {props.hint === undefined ? null : <div class="kpi-hint">{props.hint}</div>}
    </div>
  );
}

/** A horizontal bar with its value written beside it, so that the number never depends on the bar's length or colour. */
export function Bar(props: { share: number; label: string; tone?: 'warn' | 'bad' }) {
  const width = `${Math.min(100, Math.max(0, props.share * 100)).toFixed(1)}%`;
  return (
    <div class="bar-row">
      <div class="bar-track">
        <div
          class={`bar-fill${props.tone === undefined ? '' : ` ${props.tone}`}`}
          ref={(element) => element?.style.setProperty('width', width)}
        />
      </div>
      <span class="bar-label">{props.label}</span>
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function ErrorNote(props: { error: unknown }) {
  if (props.error === undefined || props.error === null) return null;
  return (
    <p class="error-note" role="alert">
      {props.error instanceof Error ? props.error.message : String(props.error)}
    </p>
  );
}

/**
 * What stands where data will be: "Loading…" while it is on its way; once a load failed (its
 * error is shown in an {@link ErrorNote}), a button that tries again instead.
 */
export function Loading(props: { error: unknown; retry: () => void }) {
  if (props.error === undefined || props.error === null) return <p class="muted">Loading…</p>;
  return (
    <button type="button" onClick={props.retry}>
      Try again
    </button>
  );
}

/** State, shape and word together: never colour alone. */
export function StateBadge(props: { state: string }) {
  const icon =
    { closed: '●', ok: '●', active: '●', half_open: '◐', degraded: '◐', disabled: '◐', open: '■', down: '■', revoked: '■', expired: '■' }[
      props.state
    ] ?? '○';
  return (
    <span class={`badge badge-${props.state}`}>
      <span aria-hidden="true">{icon}</span> {props.state.replace('_', '-')}
    </span>
  );
}
