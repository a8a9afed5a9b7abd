import { describe, expect, it } from 'vitest';
import { hostNameOf, isOwnOrigin } from './browser-origin.js';

describe('isOwnOrigin', () => {
  it('matches the Host the request was addressed to, a default port counting as omitted', () => {
    expect(isOwnOrigin('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(isOwnOrigin('http://LOCALHOST:8080', 'localhost:8080')).toBe(true);
    expect(isOwnOrigin('http://localhost', 'localhost:80')).toBe(true);
    expect(isOwnOrigin('https://gateway.example', 'gateway.example')).toBe(true);
    expect(isOwnOrigin('http://[::1]:8080', '[::1]:8080')).toBe(true);
  });

  it('refuses another port, another name, an opaque origin, other schemes and malformed headers', () => {
    expect(isOwnOrigin('http://127.0.0.1:3000', '127.0.0.1:8080')).toBe(false);
    expect(isOwnOrigin('http://localhost:8080', '127.0.0.1:8080')).toBe(false);
    expect(isOwnOrigin('null', '127.0.0.1:8080')).toBe(false);
    expect(isOwnOrigin('chrome-extension://abc', 'abc')).toBe(false);
    expect(isOwnOrigin('not an origin', '127.0.0.1:8080')).toBe(false);
    expect(isOwnOrigin('http://127.0.0.1:8080', undefined)).toBe(false);
    expect(isOwnOrigin('http://b', 'a@b')).toBe(false);
    expect(isOwnOrigin('http://b', 'b/path')).toBe(false);
  });
});

describe('hostNameOf', () => {
  it('gives the name without its port, as a browser normalises it', () => {
    expect(hostNameOf('LocalHost:8080')).toBe('localhost');
    expect(hostNameOf('127.1:8080')).toBe('127.0.0.1');
    expect(hostNameOf('[0:0:0:0:0:0:0:1]:8080')).toBe('[::1]');
    expect(hostNameOf('a b')).toBeUndefined();
    expect(hostNameOf(undefined)).toBeUndefined();
  });
});
