import { describe, expect, it } from 'vitest';
import { assertSafeBind, isLoopbackHost } from './bind-address.js';

describe('isLoopbackHost', () => {
  it('accepts localhost and the loopback addresses, IPv4-mapped included', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1', '::ffff:127.0.0.2']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('refuses other addresses, and names that only look like a loopback address', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      '127.attacker.example',
      '127.0.0.1.attacker.example',
      '::ffff:10.0.0.1',
      'example.com',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('assertSafeBind', () => {
  it('refuses a keyless bind to a DNS name that starts with 127.', () => {
    expect(() => assertSafeBind('127.attacker.example', false)).toThrow(expect.objectContaining({ code: 'server_unauthenticated_bind' }));
    expect(() => assertSafeBind('127.attacker.example', true)).not.toThrow();
    expect(() => assertSafeBind('127.0.0.1', false)).not.toThrow();
  });
});
