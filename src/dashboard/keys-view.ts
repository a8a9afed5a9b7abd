import type { BudgetLevel } from '../observability/metrics.js';
import type { Team } from '../tenants/team.js';
import { keyStatus, type VirtualKey } from '../tenants/virtual-key.js';
import type { Dashboard } from './dashboard.js';
import type { Json, KeyRow, TeamRow } from './dashboard-wire.js';
import { type Spend, spendBy } from './key-spend.js';

const NO_SPEND: Spend = { dayUsd: 0, monthUsd: 0, totalUsd: 0 };

/** A key as the Keys page shows it: its settings, status and what it spent against its budgets. */
export type KeyView = VirtualKey & { status: string; spend: Spend };

/** A team with what its keys spent. */
export type TeamView = Team & { spend: Spend };

/** A type that is `From` when `From` fits `To`, and an error where it does not. */
type Fits<From extends To, To> = From;

/** Keys and teams as JSON carry them are what the page reads: a change on either side that the other does not follow is a type error. */
export type KeyViewJson = Fits<Json<KeyView>, KeyRow>;
export type TeamViewJson = Fits<Json<TeamView>, TeamRow>;

/** Every key with its status and spend (today, this month, in all), active keys first; empty without tenants. */
export async function keysWithSpend(dashboard: Dashboard, nowMs: number): Promise<KeyView[]> {
  if (dashboard.tenants === undefined) return [];
  const [keys, spend] = await Promise.all([dashboard.tenants.repository.listKeys(), spendBy(dashboard.db, 'key_id', nowMs)]);
  const now = new Date(nowMs);
  return keys
    .map((key) => ({ ...key, status: keyStatus(key, now), spend: spend.get(key.id) ?? NO_SPEND }))
    .sort((a, b) => Number(a.status !== 'active') - Number(b.status !== 'active') || a.name.localeCompare(b.name));
}

/** Every team with its spend; empty without tenants. */
export async function teamsWithSpend(dashboard: Dashboard, nowMs: number): Promise<TeamView[]> {
  if (dashboard.tenants === undefined) return [];
  const [teams, spend] = await Promise.all([dashboard.tenants.repository.listTeams(), spendBy(dashboard.db, 'team_id', nowMs)]);
  return teams.map((team) => ({ ...team, spend: spend.get(team.id) ?? NO_SPEND }));
}

/** Every budget set on an active key or on a team, with what was spent against it in its period (for the budget gauges). */
export async function budgetLevels(dashboard: Dashboard, nowMs: number): Promise<BudgetLevel[]> {
  const [keys, teams] = await Promise.all([keysWithSpend(dashboard, nowMs), teamsWithSpend(dashboard, nowMs)]);
  const levels: BudgetLevel[] = [];
  const add = (owner: BudgetLevel['owner'], entry: KeyView | TeamView) => {
    const periods: Array<[BudgetLevel['period'], number | null, number]> = [
      ['day', entry.dailyBudgetUsd, entry.spend.dayUsd],
      ['month', entry.monthlyBudgetUsd, entry.spend.monthUsd],
      ['total', entry.totalBudgetUsd, entry.spend.totalUsd],
    ];
    for (const [period, limitUsd, spentUsd] of periods)
      if (limitUsd !== null) levels.push({ owner, id: entry.id, period, limitUsd, spentUsd });
  };
  for (const key of keys) if (key.status === 'active') add('key', key);
  for (const team of teams) add('team', team);
  return levels;
}
