import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ApiRoute } from '../../src/api/router';
import { type ApiScope, apiScopes } from '../../src/api/tokens';
import { startHarness } from '../support/harness';

/**
 * The security suite every /api/v1 route runs, read from the route table the real
 * app hands its router: a route added to any module joins it without being listed.
 */
const table = vi.hoisted(() => ({ routes: [] as ApiRoute[] }));
vi.mock('../../src/api/router', async (importOriginal) => {
  const router = await importOriginal<typeof import('../../src/api/router')>();
  return {
    ...router,
    // Passes everything through; it only keeps a copy of the routes it was given.
    createApiHandler: (options: Parameters<typeof router.createApiHandler>[0]) => {
      table.routes = [...options.routes];
      return router.createApiHandler(options);
    },
  };
});

const t = await startHarness();
afterAll(() => t.stop());

/** A concrete path for a route pattern: every `:name` parameter filled with a plausible value. */
const concrete = (path: string) => path.replace(/:(\w+)/g, 'X-1');

describe('every /api/v1 route', () => {
  it('is in the table this suite reads', () => {
    expect(table.routes.length).toBeGreaterThan(0);
    expect(table.routes.map((route) => `${route.method} ${route.path}`)).toContain('POST /incidents');
    expect(table.routes.map((route) => `${route.method} ${route.path}`)).toContain('GET /changes');
    for (const route of table.routes) expect(concrete(route.path)).toMatch(/^[\w/-]+$/);
  });

  describe.each(table.routes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (_, route) => {
    const path = concrete(route.path);
    const body = route.method === 'GET' ? undefined : {};

    it('refuses a request without a token with 401 and a Bearer challenge', async () => {
      const answer = await t.api(route.method, path, { body });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('unauthorized');
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    });

    it('refuses a token Tandem never issued with 401', async () => {
      const answer = await t.api(route.method, path, { token: 'tdm_not-a-real-token', body });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('unauthorized');
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    });

    it('refuses a token with every scope but the ones it needs with 403 insufficient_scope', async () => {
      const others = apiScopes.filter((scope: ApiScope) => !route.scopes.includes(scope));
      expect(others.length).toBeGreaterThan(0);
      const answer = await t.api(route.method, path, { token: await t.token(...others), body });
      expect(answer.status).toBe(403);
      expect(answer.body.error).toMatchObject({ code: 'insufficient_scope', details: { required: route.scopes, granted: others } });
    });

    it('changes nothing when it refuses', async () => {
      const callsBefore = t.slack.calls.length;
      await t.api(route.method, path, { body });
      await t.api(route.method, path, { token: await t.token(...apiScopes.filter((scope) => !route.scopes.includes(scope))), body });
      await t.idle();
      expect(t.slack.calls.length).toBe(callsBefore);
    });
  });
});
