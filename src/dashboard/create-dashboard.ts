import type { Kysely } from 'kysely';
import type { Secret } from '../config/secret.js';
import { groundworkTables } from '../db/groundwork-tables.js';
import type { HealthOptions, HealthReport } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { ResiliencePipeline } from '../resilience/resilience-pipeline.js';
import type { Router } from '../routing/router.js';
import type { Dashboard, DashboardTenants } from './dashboard.js';
import { budgetLevels } from './keys-view.js';

/** The facade members the dashboard reads, typed structurally so that `Infrastructure` fits as it is. */
export interface DashboardInfrastructure {
  // biome-ignore lint/suspicious/noExplicitAny: any application schema holds Groundwork's tables
  readonly database: { readonly db: Kysely<any> };
  readonly metrics: GroundworkMetrics;
  /** Where a failed read of the budget gauges is reported. @default silent */
  readonly logger?: Logger | undefined;
  readonly config: { readonly llm: { readonly logContent: boolean } };
  readonly pipeline: Pick<ResiliencePipeline, 'breakerStates' | 'rateLimitLevels' | 'concurrency'>;
  /** The router over the model groups, when there are any: its deployments' circuits join the providers'. */
  readonly router?: Pick<Router, 'breakerStates' | 'rateLimitLevels'> | undefined;
  health(options?: HealthOptions): Promise<HealthReport>;
}

/**
 * The dashboard over the facade's ledger, breakers (the providers' and, with model groups, each
 * deployment's), metrics and health, and the tenants' keys when
 * given; then each key's and team's budgets are also published as gauges (`groundwork_tenant_budget_usd`,
 * `groundwork_tenant_budget_spent_usd`), read at each scrape.
 */
export function createDashboard(
  infrastructure: DashboardInfrastructure,
  options: { adminKey: Secret | undefined; tenants?: DashboardTenants | undefined },
): Dashboard {
  const dashboard: Dashboard = {
    db: groundworkTables(infrastructure.database.db),
    adminKey: options.adminKey,
    metrics: infrastructure.metrics,
    breakers: async () => {
      const [providers, deployments] = await Promise.all([
        infrastructure.pipeline.breakerStates(),
        infrastructure.router?.breakerStates() ?? [],
      ]);
      return [...providers, ...deployments];
    },
    // A deployment's circuit is listed as `<group>/<deployment>`: its buckets are its own, not the provider-wide ones.
    rateLimitLevels: async (provider, model) => {
      const deployment = await infrastructure.router?.rateLimitLevels(provider, model);
      return deployment === null || infrastructure.router === undefined
        ? infrastructure.pipeline.rateLimitLevels(provider, model)
        : deployment;
    },
    concurrency: () => infrastructure.pipeline.concurrency(),
    health: () => infrastructure.health(),
    tenants: options.tenants,
    logContent: infrastructure.config.llm.logContent,
  };
  if (options.tenants !== undefined)
    infrastructure.metrics.watchTenantBudgets(() => budgetLevels(dashboard, dashboard.now?.() ?? Date.now()), {
      logger: infrastructure.logger,
    });
  return dashboard;
}
