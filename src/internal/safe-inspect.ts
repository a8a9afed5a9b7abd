import { inspect } from 'node:util';

/**
 * Makes `target` show only `summary()` when inspected (`console.log`, `util.inspect`) or serialised
 * (`JSON.stringify`), for objects whose own fields hold secrets Groundwork cannot remove: a Redis
 * client keeps its password in its options, a connection pool its connection string.
 */
export function showOnly<T extends object>(target: T, name: string, summary: () => Record<string, unknown>): T {
  Object.defineProperty(target, inspect.custom, {
    value: (_depth: number, options: object) => `${name} ${inspect(summary(), { ...options, depth: 2 })}`,
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(target, 'toJSON', { value: () => ({ type: name, ...summary() }), enumerable: false, configurable: true });
  return target;
}
