import type { Secret } from '../config/secret.js';
import type { LlmProviderName } from '../config/variables.js';

/** The routing strategies a model group may use. */
export const ROUTING_STRATEGIES = ['weighted-random', 'least-busy', 'lowest-latency', 'usage-based'] as const;
/**
 * How a model group picks a deployment for each attempt:
 * - `weighted-random`: at random, in proportion to each deployment's `weight`;
 * - `least-busy`: the fewest calls in flight (this process);
 * - `lowest-latency`: two at random, the one with the lower recent latency (EWMA) times its calls in flight;
 * - `usage-based`: the most rate-limit headroom left (requests and tokens, from the shared buckets).
 */
export type RoutingStrategyName = (typeof ROUTING_STRATEGIES)[number];

/** One deployment of a model group: a provider, a model, its own credentials, endpoint and limits. */
export interface DeploymentConfig {
  /** Unique within its group; named in the ledger, metrics, spans and `doctor`. */
  readonly name: string;
  /** The group it belongs to. */
  readonly group: string;
  readonly provider: LlmProviderName;
  /** The provider's model id (Azure: the deployment name). */
  readonly model: string;
  /** The API key, from `apiKeyEnv` (or that variable's `_FILE`) or `apiKeyFile`; never written in the file. */
  readonly apiKey: Secret | undefined;
  /** The provider's base URL (OpenAI, OpenAI-compatible, Anthropic, Gemini, Bedrock). */
  readonly baseUrl: string | undefined;
  /** Azure OpenAI's resource endpoint. */
  readonly endpoint: string | undefined;
  /** Azure OpenAI's API version. */
  readonly apiVersion: string | undefined;
  /** AWS region (Bedrock) or Google Cloud location. */
  readonly region: string | undefined;
  /** AWS keys for Bedrock, from `accessKeyIdEnv` / `secretAccessKeyEnv`; undefined: the standard AWS chain. */
  readonly accessKeyId: Secret | undefined;
  readonly secretAccessKey: Secret | undefined;
  /** Requests per rate-limit window (a minute unless `windowMs` says otherwise); undefined: no limit. */
  readonly rpm: number | undefined;
  /** Tokens per rate-limit window; undefined: no limit. */
  readonly tpm: number | undefined;
  /** Calls in flight at once from this process; undefined: no limit. */
  readonly maxConcurrent: number | undefined;
  /** Share of the traffic under `weighted-random` (relative). @default 1 */
  readonly weight: number;
}

/** A logical model (what callers ask for, e.g. `chat-fast`) backed by several deployments. */
export interface ModelGroupConfig {
  readonly name: string;
  readonly strategy: RoutingStrategyName;
  readonly deployments: readonly DeploymentConfig[];
  /** Groups tried in order when every deployment of this one has failed or is unavailable. */
  readonly fallbacks: readonly string[];
}

/** A validated routes file (`GROUNDWORK_ROUTES`). */
export interface RoutesConfig {
  /** The file it was read from. */
  readonly file: string;
  /** The window `rpm` and `tpm` apply over, in ms. @default 60000 */
  readonly windowMs: number;
  /** Every group by name. */
  readonly groups: Readonly<Record<string, ModelGroupConfig>>;
}
