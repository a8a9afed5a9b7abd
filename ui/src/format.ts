const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** A count with thousands separators: 12,345. */
export const formatCount = (value: number): string => integer.format(value);

/** A large count shortened: 1.2M. */
export const formatCompact = (value: number): string => compact.format(value);

/**
 * US dollars: $12.34, $0.0042 under a cent, <$0.0001 under that. The value is rounded to four
 * places before its form is chosen, so that a sum or difference a hair under a cent in floating
 * point (0.03 − 0.02) reads $0.01, as the cent it is, not $0.0100.
 */
export function formatUsd(value: number): string {
  const rounded = Math.round(value * 10_000) / 10_000;
  if (rounded === 0) return value > 0 ? '<$0.0001' : '$0.00';
  if (Math.abs(rounded) < 0.01) return `$${rounded.toFixed(4)}`;
  // The value itself, rounded once, to cents.
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A duration: 850 ms, 1.2 s. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

/** A share: 4.2%. */
export const formatPercent = (value: number | null): string => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);

/** A time of day, or a date and time when not today. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** An outcome code as words: `rate_limit_exceeded` → rate limit exceeded. */
export const formatOutcome = (outcome: string): string => outcome.replace(/_/g, ' ');
