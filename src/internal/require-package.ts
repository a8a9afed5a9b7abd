import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const requireFile = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * Loads a package's ES module build synchronously, for the few synchronous functions of the package's
 * root (`sql`, `definePrompt` with a schema) that need a package its import does not load. It is the
 * ES build `import()` resolves to, loaded with `require()` (Node ≥ 20.19), so the instance is the one
 * `import()` gives the application and the rest of Groundwork: one copy of its classes and registries.
 *
 * Node cannot `require()` an ES module while an `import()` of it is still under way; that case
 * throws an error saying what to await.
 */
export function requirePackage<T>(specifier: string, caller: string): T {
  const found = loaded.get(specifier);
  if (found !== undefined) return found as T;
  let module: T;
  try {
    module = requireFile(fileURLToPath(import.meta.resolve(specifier))) as T;
  } catch (error) {
    throw new Error(
      `${caller} needs the package ${specifier}, which could not be loaded synchronously (${(error as Error).message.split('\n', 1)[0]}). ` +
        `If it is being loaded by an import() still under way (createInfrastructure() loads it), await that first.`,
      { cause: error },
    );
  }
  loaded.set(specifier, module);
  return module;
}
