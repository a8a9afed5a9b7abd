/**
 * `groundwork serve` as a library: the HTTP service over a {@link ServiceBackend}, and the adapter
 * that builds one from the facade.
 *
 * @module
 */
export { createServer, type GroundworkServer, type ListenAddress, type ServerDependencies } from './create-server.js';
export { type ErrorAnswer, HttpError, type OpenAiErrorType } from './http-error.js';
export { configuredModels, createServiceBackend, type ServiceInfrastructure, type ServiceLlm } from './infrastructure-backend.js';
export type {
  CompleteOptions,
  ReadinessCheck,
  ReadinessReport,
  ServiceBackend,
  ServiceCompletion,
  ServiceModel,
  StreamOptions,
} from './service-backend.js';
