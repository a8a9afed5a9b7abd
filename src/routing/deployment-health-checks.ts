import type { AppConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import type { CreateProviderOptions } from '../llm/providers/create-provider.js';
import type { LlmProvider } from '../llm/types.js';
import type { HealthCheck } from '../observability/health.js';
import { scrubSecrets } from '../observability/redact.js';
import { deploymentAppConfig } from './deployment-app-config.js';
import type { DeploymentConfig, RoutesConfig } from './routes-config.js';

/**
 * One optional check per deployment of every model group, named `llm:<group>/<deployment>`: with
 * `deep` (as `groundwork doctor` runs them), a cheap request with the deployment's own credentials
 * proves its key, endpoint and network. The check's adapter is its own, closed after each check.
 */
export function deploymentHealthChecks(
  routes: RoutesConfig,
  config: AppConfig,
  googleAuthOptions?: CreateProviderOptions['googleAuthOptions'],
): HealthCheck[] {
  return Object.values(routes.groups).flatMap((group) =>
    group.deployments.map((deployment) => ({
      name: `llm:${group.name}/${deployment.name}`,
      required: false,
      async check(signal, options) {
        const info: Record<string, unknown> = { model: deployment.model, provider: deployment.provider };
        if (options.deep !== true) return { status: 'ok' as const, info, detail: `${deployment.provider} ${deployment.model}` };
        let provider: LlmProvider | undefined;
        const started = performance.now();
        try {
          // Loaded here, not with the package: importing Groundwork loads no provider adapter.
          const { createProvider } = await import('../llm/providers/create-provider.js');
          provider = createProvider(deployment.provider, deploymentAppConfig(config, deployment), { googleAuthOptions });
          await provider.ping(signal);
          const latencyMs = performance.now() - started;
          return { status: 'ok' as const, info, latencyMs, detail: `${describe(deployment)} answers` };
        } catch (error) {
          return {
            status: 'down' as const,
            info: { ...info, fix: `check ${keySource(deployment.provider, deployment)}, the endpoint and the network` },
            detail: `${describe(deployment)}: ${scrubSecrets((error as Error).message)}`,
          };
        } finally {
          await provider?.close?.();
        }
      },
    })),
  );
}

function describe(deployment: DeploymentConfig): string {
  return `${deployment.provider} ${deployment.model}`;
}

function keySource(provider: LlmProviderName, deployment: DeploymentConfig): string {
  if (provider === 'bedrock') return deployment.accessKeyId === undefined ? 'the AWS credentials' : `${deployment.accessKeyId.variable}`;
  return deployment.apiKey === undefined ? 'the API key' : `the key in ${deployment.apiKey.variable}`;
}
