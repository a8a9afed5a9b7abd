import type { AppConfig } from '../../config/app-config.js';
import { deploymentAppConfig } from '../../routing/deployment-app-config.js';
import { groupCallTargets } from '../../routing/router.js';
import type { RoutesConfig } from '../../routing/routes-config.js';
import type { CallTarget } from '../call-pipeline.js';
import type { AzureTokenProvider } from '../providers/azure/azure-provider.js';
import { ResponsesGroupStatefulError, statefulField } from './responses-group-stateful-error.js';
import { ResponsesGroupUnsupportedError } from './responses-group-unsupported-error.js';
import { forwardsResponses, type ResponsesUpstream, responsesUpstream } from './responses-upstream.js';

/**
 * Where forwarded Responses calls go: the targets of a call (a model group's deployments that have
 * the API, or the primary provider and its fallbacks), and each target's upstream, made once.
 */
export class ResponsesTargets {
  readonly #config: AppConfig;
  readonly #routes: RoutesConfig | undefined;
  readonly #azureTokenProvider: AzureTokenProvider | undefined;
  /** By provider, and by `group/deployment` for the deployments of model groups. */
  readonly #upstreams = new Map<string, ResponsesUpstream>();

  constructor(config: AppConfig, routes: RoutesConfig | undefined, azureTokenProvider: AzureTokenProvider | undefined) {
    this.#config = config;
    this.#routes = routes;
    this.#azureTokenProvider = azureTokenProvider;
  }

  /**
   * Where a call for `model` may go: a model group's deployments (then its fallback groups') that
   * have the Responses API, the others skipped; else the primary provider (Azure: its deployment)
   * and the fallbacks that have it. A call that continues earlier state (`previous_response_id`,
   * `conversation`) goes only where that state can be: a group's call is refused unless exactly one
   * of its deployments can take it, since another would be another account's; without a group, only
   * the fallbacks on the primary's own upstream (the same endpoint and credentials) are kept, or,
   * when `origin` (the target that made the previous response) is a fallback on another upstream,
   * the fallbacks on that one, which holds the state. A background response may start on any of them:
   * it is polled, cancelled and deleted wherever it was made (see `holders`).
   */
  targets(model: string, body: Readonly<Record<string, unknown>> = {}, origin?: CallTarget): CallTarget[] {
    const config = this.#config;
    const routes = this.#routes;
    const grouped = routes === undefined ? undefined : groupCallTargets(routes.groups, model);
    if (grouped !== undefined) {
      const targets = grouped.filter((target) => forwardsResponses(target.provider));
      if (targets.length === 0) throw new ResponsesGroupUnsupportedError(model, [...new Set(grouped.map((target) => target.provider))]);
      const field = statefulField(body);
      if (field !== undefined) {
        const deployments = [...new Set(targets.map((target) => `${target.group}/${target.deployment}`))];
        if (deployments.length > 1) throw new ResponsesGroupStatefulError(model, field, deployments);
      }
      return targets;
    }
    const provider = config.llm.provider;
    const primary: CallTarget = { provider, model: provider === 'azure' ? config.llm.model : model };
    const fallbacks = config.resilience.fallbacks.filter((target) => forwardsResponses(target.provider)).map((target) => ({ ...target }));
    if (statefulField(body) === undefined || fallbacks.length === 0) return [primary, ...fallbacks];
    // A continuation's state is held where the primary keeps its responses: only a fallback to the
    // same upstream (another model of the same account) can take it.
    const identity = this.#identity(primary);
    if (origin !== undefined && origin.deployment === undefined) {
      const held = this.#identity(origin);
      const holders = held === undefined || held === identity ? [] : fallbacks.filter((target) => this.#identity(target) === held);
      if (holders.length > 0) return holders;
    }
    return [primary, ...fallbacks.filter((target) => identity !== undefined && this.#identity(target) === identity)];
  }

  /**
   * Every target whose upstream may hold a stored response, in the order retrieval asks them: the
   * primary provider, the fallbacks that have the Responses API, then the OpenAI and Azure
   * deployments of the model groups, group by group. Several may share one upstream (the same
   * endpoint and credentials): the caller asks each upstream once.
   */
  holders(): CallTarget[] {
    const config = this.#config;
    const holders: CallTarget[] = [];
    if (forwardsResponses(config.llm.provider)) holders.push({ provider: config.llm.provider, model: config.llm.model });
    holders.push(...config.resilience.fallbacks.filter((target) => forwardsResponses(target.provider)).map((target) => ({ ...target })));
    for (const group of Object.values(this.#routes?.groups ?? {})) {
      for (const deployment of group.deployments) {
        if (!forwardsResponses(deployment.provider)) continue;
        holders.push({ provider: deployment.provider, model: deployment.model, group: group.name, deployment: deployment.name });
      }
    }
    return holders;
  }

  /**
   * Whether a caller that may call only `models` (`'*'` for any; undefined: no restriction) could
   * reach a target with a call: a model group's deployment when one of the models names its group
   * or a group that falls back to it; the primary provider and its fallbacks when one of the models
   * names no group.
   */
  reachable(models: readonly string[] | undefined): (target: CallTarget) => boolean {
    if (models === undefined || models.includes('*')) return () => true;
    const groups = this.#routes?.groups ?? {};
    let direct = false;
    const deployments = new Set<string>();
    for (const model of models) {
      const grouped = groupCallTargets(groups, model);
      if (grouped === undefined) direct = true;
      else for (const target of grouped) deployments.add(`${target.group}/${target.deployment}`);
    }
    return (target) => (target.deployment === undefined ? direct : deployments.has(`${target.group}/${target.deployment}`));
  }

  /** What makes a target's upstream one (see {@link ResponsesUpstream.identity}); undefined when it cannot be set up. */
  #identity(target: CallTarget): string | undefined {
    try {
      return this.upstream(target).identity();
    } catch {
      // Not configured: the call to it fails on its own, and no state can be held there.
      return undefined;
    }
  }

  /** The Responses API of a target: its provider's from the configuration, or a deployment's own endpoint and credentials. */
  upstream(target: CallTarget): ResponsesUpstream {
    const { provider } = target;
    if (!forwardsResponses(provider)) throw new Error(`The provider ${provider} has no Responses API to forward to`);
    const key = target.deployment === undefined ? provider : `${target.group}/${target.deployment}`;
    let upstream = this.#upstreams.get(key);
    if (upstream === undefined) {
      if (target.deployment === undefined) upstream = responsesUpstream(this.#config, provider, this.#azureTokenProvider);
      else {
        const deployment = this.#routes?.groups[target.group ?? '']?.deployments.find((entry) => entry.name === target.deployment);
        if (deployment === undefined) throw new TypeError(`No deployment "${key}" in the routes file`);
        upstream = responsesUpstream(deploymentAppConfig(this.#config, deployment), provider);
      }
      this.#upstreams.set(key, upstream);
    }
    return upstream;
  }
}

/** A target as errors name it: its provider, or a model group's deployment as `provider deployment group/name`. */
export function targetLabel(target: CallTarget): string {
  return target.deployment === undefined ? target.provider : `${target.provider} deployment ${target.group}/${target.deployment}`;
}
