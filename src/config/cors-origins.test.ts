import { describe, expect, it } from 'vitest';
import { parseEnvironment } from './parse-environment.js';

const parse = (env: Record<string, string>) => parseEnvironment(env, { azureTokenProvider: false, isTty: false });

describe('SERVER_CORS_ORIGINS', () => {
  it('takes origins as browsers send them, and *', () => {
    const { config, errors } = parse({ SERVER_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173,*' });
    expect(errors).toEqual([]);
    expect(config?.server.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173', '*']);
  });

  it('refuses an entry no browser Origin can equal, naming it and the origin to write', () => {
    const { config, errors } = parse({
      SERVER_CORS_ORIGINS: 'https://app.example.com/,app.example.com,https://App.Example.com,https://app.example.com:443,http://x.test/ui',
    });
    expect(config).toBeUndefined();
    expect(errors.map((error) => [error.variable, error.message])).toEqual([
      [
        'SERVER_CORS_ORIGINS',
        'must be origins as browsers send them (scheme://host[:port], no path) or *: write "https://app.example.com/" as "https://app.example.com", "app.example.com" with its scheme (https://…), "https://App.Example.com" as "https://app.example.com", "https://app.example.com:443" as "https://app.example.com", "http://x.test/ui" as "http://x.test"',
      ],
    ]);
  });
});
