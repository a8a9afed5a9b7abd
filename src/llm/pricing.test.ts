import { describe, expect, it } from 'vitest';
import { parsePrices } from '../config/schema.js';
import { batchCostOf, PriceBook } from './pricing.js';

describe('PriceBook', () => {
  it('prices by exact name or the longest prefix', () => {
    const prices = new PriceBook();
    expect(prices.priceOf('gpt-4o-mini-2024-07-18')).toMatchObject({ input: 0.15 });
    expect(prices.priceOf('gpt-4o-2024-08-06')).toMatchObject({ input: 2.5 });
    expect(prices.priceOf('claude-3-5-haiku-latest')).toMatchObject({ input: 0.8 });
    expect(prices.priceOf('llama3.1')).toBeUndefined();
    expect(prices.priceOf('gemini-2.5-flash')).toMatchObject({ input: 0.3 });
    expect(prices.priceOf('gemini-2.5-flash-lite-preview-06-17')).toMatchObject({ input: 0.1 });
    expect(prices.priceOf('amazon.nova-lite-v1:0')).toMatchObject({ input: 0.06 });
    expect(prices.priceOf('us.anthropic.claude-3-5-haiku-20241022-v1:0')).toMatchObject({ input: 0.8 });
    expect(prices.priceOf('amazon.titan-embed-text-v2:0')).toMatchObject({ input: 0.02, output: 0 });
    expect(prices.priceOf('useful.model-v1')).toBeUndefined();
  });

  it('charges cached prompt tokens at the cached rate', () => {
    const prices = new PriceBook();
    const cost = prices.cost('gpt-4o-mini', {
      promptTokens: 1_000_000,
      completionTokens: 1_000_000,
      totalTokens: 2_000_000,
      cachedPromptTokens: 500_000,
    });
    expect(cost).toBeCloseTo(0.5 * 0.15 + 0.5 * 0.075 + 0.6, 8);
  });

  it('takes overrides from config and prices unknown models at 0', () => {
    const prices = new PriceBook({ 'my-model': { input: 1, output: 2 } });
    expect(prices.cost('my-model', { promptTokens: 1000, completionTokens: 500, totalTokens: 1500 })).toBeCloseTo(0.002, 8);
    expect(prices.cost('unknown', { promptTokens: 1000, completionTokens: 500, totalTokens: 1500 })).toBe(0);
  });
});

describe('PriceBook and the names of Object’s members', () => {
  it('knows no price for constructor, toString or __proto__ unless configured, and prices them as configured', () => {
    const prices = new PriceBook();
    const usage = { promptTokens: 1000, completionTokens: 1000, totalTokens: 2000 };
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(prices.priceOf(model), model).toBeUndefined();
      expect(prices.cost(model, usage), model).toBe(0);
    }
    const configured = new PriceBook(parsePrices('{"__proto__":{"input":1,"output":2}}'));
    expect(configured.priceOf('__proto__')).toEqual({ input: 1, output: 2 });
    expect(configured.cost('__proto__', usage)).toBeCloseTo(0.003, 9);
    expect(configured.priceOf('constructor')).toBeUndefined();
  });
});

describe('batch prices', () => {
  const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000 };
  it('charge half of every rate unless the price says otherwise', () => {
    expect(batchCostOf({ input: 0.15, output: 0.6 }, usage)).toBeCloseTo(0.375, 10);
    expect(batchCostOf({ input: 0.15, output: 0.6, batch: 0.4 }, usage)).toBeCloseTo(0.3, 10);
    expect(new PriceBook().batchCost('gpt-4o-mini-2024-07-18', usage)).toBeCloseTo(0.375, 10);
    expect(new PriceBook().batchCost('unknown-model', usage)).toBe(0);
  });

  it('read a batch share from LLM_PRICES, and refuse one outside 0 to 1', () => {
    expect(parsePrices('{"m":{"input":1,"output":2,"batch":0.25}}')).toEqual({ m: { input: 1, output: 2, batch: 0.25 } });
    expect(parsePrices('{"m":{"input":1,"output":2,"batch":1.5}}')).toBeUndefined();
  });
});
