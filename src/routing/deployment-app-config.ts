import type { AppConfig } from '../config/app-config.js';
import type { DeploymentConfig } from './routes-config.js';

/**
 * The configuration a deployment's provider adapter is built from: the application's, with the
 * provider's section replaced by the deployment's model, credentials and endpoint (nothing of
 * the environment's provider settings leaks into a deployment that does not set it).
 */
export function deploymentAppConfig(config: AppConfig, deployment: DeploymentConfig): AppConfig {
  const llm = config.llm;
  const { apiKey, model, baseUrl } = deployment;
  const sections: Partial<Record<string, unknown>> = {
    openai: { apiKey, model, baseUrl, organization: undefined, project: undefined },
    'openai-compatible': { apiKey, model, baseUrl, organization: undefined, project: undefined },
    azure: { apiKey, endpoint: deployment.endpoint, deployment: model, apiVersion: deployment.apiVersion ?? llm.azure.apiVersion },
    anthropic: { apiKey, model, baseUrl },
    gemini: { apiKey, model, baseUrl, vertexAi: false, project: undefined, location: undefined },
    bedrock: {
      model,
      region: deployment.region,
      baseUrl,
      accessKeyId: deployment.accessKeyId,
      secretAccessKey: deployment.secretAccessKey,
      sessionToken: undefined,
    },
  };
  const section = deployment.provider === 'openai-compatible' ? 'openai' : deployment.provider;
  return { ...config, llm: { ...llm, provider: deployment.provider, model, [section]: sections[deployment.provider] } };
}
