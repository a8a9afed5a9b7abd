import { describe, expect, it } from 'vitest';
import { parameterOf, routePath } from './route-parameter.js';
import { findRoute } from './routes.js';

/** The route found for `path` and its decoded parameter, as `[route path, parameter]`. */
function matched(path: string): [string | undefined, string | undefined] {
  const route = findRoute(path);
  return [route?.path, route === undefined ? undefined : parameterOf(route, routePath(path))];
}

describe('the routes of a stored response', () => {
  it.each([
    ['/v1/responses/resp_1', '/v1/responses/{id}', 'resp_1'],
    ['/v1/responses/resp_1/cancel', '/v1/responses/{id}/cancel', 'resp_1'],
    ['/v1/responses/resp_1/input_items', '/v1/responses/{id}/input_items', 'resp_1'],
    // A trailing slash is ignored.
    ['/v1/responses/resp_1/cancel/', '/v1/responses/{id}/cancel', 'resp_1'],
    ['/v1/responses/resp_1/', '/v1/responses/{id}', 'resp_1'],
    ['/v1/responses/', '/v1/responses', undefined],
    // Before a fixed rest the id is one segment: with a slash it is the whole rest, an id of the GET and DELETE route.
    ['/v1/responses/a/b/cancel', '/v1/responses/{id}', 'a/b/cancel'],
    // An encoded slash is part of the one segment, decoded once.
    ['/v1/responses/a%2Fb/cancel', '/v1/responses/{id}/cancel', 'a/b'],
    ['/v1/responses/a%252Fb', '/v1/responses/{id}', 'a%2Fb'],
    // Dot segments match as they are written (the route refuses them as ids).
    ['/v1/responses/%2e', '/v1/responses/{id}', '.'],
    ['/v1/responses/%2E%2e/cancel', '/v1/responses/{id}/cancel', '..'],
    ['/v1/responses/.%2e/input_items', '/v1/responses/{id}/input_items', '..'],
    // An empty id before a fixed rest matches no such route: the rest is then the id.
    ['/v1/responses//cancel', '/v1/responses/{id}', '/cancel'],
  ])('matches %s to %s, its id %j', (path, route, id) => {
    expect(matched(path)).toEqual([route, id]);
  });

  it('matches no route for an id that cannot be decoded', () => {
    expect(matched('/v1/responses/%E0%A4%A/cancel')).toEqual([undefined, undefined]);
  });
});
