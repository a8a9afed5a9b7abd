import type { ModelPrice } from '../config/app-config.js';
import { DEFAULT_PRICES } from './price-table.js';
import type { TokenUsage } from './types.js';

/** Looks up prices by model name: the built-in table under the configured overrides. */
export class PriceBook {
  readonly #prices: Readonly<Record<string, ModelPrice>>;
  readonly #keys: string[];

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    // No prototype: a model named `constructor` or `__proto__` is priced by the table or not at all, never by Object's members.
    this.#prices = Object.assign(Object.create(null) as Record<string, ModelPrice>, DEFAULT_PRICES, overrides);
    this.#keys = Object.keys(this.#prices).sort((a, b) => b.length - a.length);
  }

  /**
   * The model a call is priced by: the one the provider reports when it has a price (Azure reports
   * the model behind a deployment, whose own name has none), else the one the call was sent to.
   */
  pricedModel(reported: unknown, sentTo: string): string {
    return typeof reported === 'string' && this.priceOf(reported) !== undefined ? reported : sentTo;
  }

  /**
   * The price of `model`: an exact entry, else the longest entry it starts with (followed by `-`,
   * `@` or `:`); a Bedrock cross-region profile (`us.…`, `eu.…`) prices as its model. Undefined when unknown.
   */
  priceOf(model: string): ModelPrice | undefined {
    const entry = this.entryOf(model);
    return entry === undefined ? undefined : this.#prices[entry];
  }

  /** The entry of the table that prices `model` (see {@link priceOf}): its own name, or the one it starts with. */
  entryOf(model: string): string | undefined {
    if (this.#prices[model] !== undefined) return model;
    const last = model.includes('/') ? (model.split('/').at(-1) ?? model) : model;
    const name = last.replace(/^(us|eu|apac|global|us-gov|jp|au|ca)\./, '');
    const key = this.#keys.find(
      (candidate) =>
        name === candidate || name.startsWith(`${candidate}-`) || name.startsWith(`${candidate}@`) || name.startsWith(`${candidate}:`),
    );
    return key;
  }

  /** The cost of `usage` on `model` in USD; 0 when the model has no price. */
  cost(model: string, usage: TokenUsage): number {
    const price = this.priceOf(model);
    if (price === undefined) return 0;
    return costOf(price, usage);
  }

  /** The cost of `usage` on `model` through the Batch API (see {@link batchCostOf}); 0 when the model has no price. */
  batchCost(model: string, usage: TokenUsage): number {
    const price = this.priceOf(model);
    return price === undefined ? 0 : batchCostOf(price, usage);
  }
}

/** The share of the list price paid through a provider's Batch API when the price table says nothing else. */
export const DEFAULT_BATCH_FACTOR = 0.5;

/** USD for `usage` at `price` paid through the Batch API: every rate times the price's `batch` share (@default 0.5). */
export function batchCostOf(price: ModelPrice, usage: TokenUsage): number {
  const factor = price.batch ?? DEFAULT_BATCH_FACTOR;
  return Math.round(costOf(price, usage) * factor * 1e10) / 1e10;
}

/** USD for `usage` at `price`: cached prompt tokens at the cached rate, the rest at the input rate. */
export function costOf(price: ModelPrice, usage: TokenUsage): number {
  const cached = Math.min(usage.cachedPromptTokens ?? 0, usage.promptTokens);
  const fresh = usage.promptTokens - cached;
  const micro = fresh * price.input + cached * (price.cachedInput ?? price.input) + usage.completionTokens * price.output;
  return Math.round((micro / 1_000_000) * 1e10) / 1e10;
}
