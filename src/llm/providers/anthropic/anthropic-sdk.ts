import type Anthropic from '@anthropic-ai/sdk';

/** The SDK's client class, which also carries its error classes. */
export type AnthropicSdk = typeof Anthropic;

let loading: Promise<AnthropicSdk> | undefined;
let loaded: AnthropicSdk | undefined;

/**
 * The SDK, loaded once, when the first Anthropic provider is created: an application that never
 * configures Anthropic never loads it (about 250 modules).
 */
export function loadAnthropicSdk(): Promise<AnthropicSdk> {
  loading ??= import('@anthropic-ai/sdk').then((module) => {
    loaded = module.default;
    return loaded;
  });
  return loading;
}

/** The SDK if it has loaded: whatever it threw can only come from a loaded SDK. */
export function loadedAnthropicSdk(): AnthropicSdk | undefined {
  return loaded;
}
