import { GroundworkError } from '../errors/groundwork-error.js';

/** What the registry knows of a prompt. */
export interface RegisteredPrompt {
  readonly name: string;
  readonly version: string;
  readonly system: string | undefined;
  readonly template: string;
  readonly variables: readonly string[];
  readonly hasSchema: boolean;
}

/**
 * The prompts an application defined, by name and version. Defining the same name and version
 * twice with different text is an error: change the version when the text changes, so the
 * ledger and the cache can tell them apart.
 */
export class PromptRegistry {
  readonly #prompts = new Map<string, RegisteredPrompt>();

  /** Adds a prompt; a repeat of an identical definition is fine. */
  register(prompt: RegisteredPrompt): void {
    const key = `${prompt.name}@${prompt.version}`;
    const existing = this.#prompts.get(key);
    if (existing !== undefined && (existing.template !== prompt.template || existing.system !== prompt.system)) {
      throw new GroundworkError(
        'prompt_redefined',
        `Prompt "${prompt.name}" version ${prompt.version} is already defined with different text; give the new text a new version.`,
      );
    }
    this.#prompts.set(key, prompt);
  }

  /** Every registered prompt, sorted by name then version (numbers in versions by value: 9 before 10). */
  list(): RegisteredPrompt[] {
    return [...this.#prompts.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }),
    );
  }

  /** The prompt with this name (and version; the last registered when omitted). */
  get(name: string, version?: string): RegisteredPrompt | undefined {
    if (version !== undefined) return this.#prompts.get(`${name}@${version}`);
    let last: RegisteredPrompt | undefined;
    // A map keeps its keys in the order they were first set: the order of registration.
    for (const prompt of this.#prompts.values()) if (prompt.name === name) last = prompt;
    return last;
  }

  /** Forgets every prompt (tests). */
  clear(): void {
    this.#prompts.clear();
  }
}

/** The registry {@link definePrompt} uses unless told otherwise. */
export const defaultPromptRegistry = new PromptRegistry();

/** Every prompt defined in this process through the default registry. */
export function listPrompts(): RegisteredPrompt[] {
  return defaultPromptRegistry.list();
}
