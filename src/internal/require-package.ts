import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const requireFile = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * Loads a package's ES module build synchronously, for the few synchronous functions of the package's
 * root (`sql`, `definePrompt` with a schema) that need a package its import does not load. It is the
 * ES build `import()` resolves to, loaded with `require()` (Node ^20.19.0 or ≥ 22.12.0), so the instance is the one
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
    throw requireFailure(specifier, caller, error);
  }
  loaded.set(specifier, module);
  return module;
}

/** The Node versions whose `require()` loads ES modules without a flag, as `engines` in package.json says. */
export const REQUIRE_ESM_NODE_VERSIONS = '^20.19.0 || >=22.12.0';

/**
 * The error {@link requirePackage} throws when `require()` failed: on a Node whose `require()`
 * cannot load ES modules (`ERR_REQUIRE_ESM`), one naming the versions needed; otherwise one
 * saying which function needed which package, and what to await if an `import()` of it is under way.
 */
export function requireFailure(specifier: string, caller: string, error: unknown): Error {
  const first = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
  if ((error as { code?: unknown } | null)?.code === 'ERR_REQUIRE_ESM') {
    return new Error(
      `${caller} needs the package ${specifier}, an ES module, which this Node (${process.version}) cannot load synchronously (${first}). ` +
        `Groundwork needs Node ${REQUIRE_ESM_NODE_VERSIONS}, whose require() loads ES modules: upgrade Node.`,
      { cause: error },
    );
  }
  return new Error(
    `${caller} needs the package ${specifier}, which could not be loaded synchronously (${first}). ` +
      `If it is being loaded by an import() still under way (createInfrastructure() loads it), await that first.`,
    { cause: error },
  );
}
