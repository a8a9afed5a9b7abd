import { describe, expect, it } from 'vitest';
import { azureTokenField } from './azure-provider.js';

describe('azureTokenField', () => {
  it.each([
    ['2024-06-01', 'max_tokens'],
    ['2024-08-01-preview', 'max_tokens'],
    ['2024-09-01-preview', 'max_completion_tokens'],
    ['2024-10-21', 'max_completion_tokens'],
    ['2025-04-01-preview', 'max_completion_tokens'],
  ])('API version %s takes %s', (version, field) => {
    expect(azureTokenField(version)).toBe(field);
  });
});
