import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, deployments, sprints } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    approvers: { groups: [leads] }
    channels: { approvals: C0APPROVALS }
groups:
  leads: [U0ANN]
`;

const change = { service: 'payments', title: 'Deploy v2.3.1', type: 'normal', environment: 'production' };
const deployment = { service: 'payments', environment: 'staging', status: 'success' };
const sprint = { name: 'Sprint 42', service: 'payments', starts_on: '2026-11-23', ends_on: '2026-12-04', features: [] };

/** Values that have reached PostgreSQL (or JavaScript's Date) and come back as 500s. */
const hostileStrings = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59-14:00',
  '+275760-09-13T00:00:00Z',
  '2026-02-30',
  '2026-13-45T00:00:00Z',
  '%E0%A4%A',
  "'; drop table changes; --",
  '\u202e\u0007\u001b[31m',
  'x'.repeat(100_000),
  ' ',
  '',
];

describe('REST API: bad input stops at the boundary', () => {
  let t: Harness;
  let writer: string;
  beforeAll(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev', email: 'dev@example.com' }),
    });
    writer = await t.token('changes:write', 'deployments:write', 'sprints:write', 'incidents:write', 'read');
  });
  afterAll(() => t.stop());

  const post = (path: string, body: unknown) => t.api('POST', path, { token: writer, body });
  const fieldsOf = (answer: { body: any }) => answer.body.error.details.map((detail: { field: string }) => detail.field);

  it('refuses a deployment whose times are out of order, naming each field', async () => {
    const finishedFirst = await post('/deployments', {
      ...deployment,
      committed_at: '2026-11-23T10:00:00Z',
      started_at: '2026-11-23T09:30:00Z',
      finished_at: '2026-11-23T09:00:00Z',
    });
    expect(finishedFirst.status).toBe(422);
    expect(finishedFirst.body.error.details).toEqual([
      { field: 'committed_at', message: 'must not be after started_at: a deployment starts after its commit' },
      { field: 'started_at', message: 'must not be after finished_at' },
    ]);
    const committedLate = await post('/deployments', { ...deployment, committed_at: '2026-11-23T10:00:00Z', finished_at: '2026-11-23T09:00:00Z' });
    expect(committedLate.body.error.details).toEqual([
      { field: 'committed_at', message: 'must not be after finished_at: a deployment finishes after its commit' },
    ]);
    // Without finished_at the deployment finished now (the clock says 2026-11-23T09:00:00Z).
    // A pipeline's clock may run up to a minute ahead of Tandem's.
    expect((await post('/deployments', { ...deployment, started_at: '2026-11-23T09:00:30Z' })).status).toBe(201);
    await t.database.handle.db.delete(deployments);
    const startsLater = await post('/deployments', { ...deployment, started_at: '2026-11-23T09:05:00Z' });
    expect(startsLater.body.error.details).toEqual([{ field: 'started_at', message: 'must not be after finished_at (now, as finished_at is not given)' }]);
    expect(await t.database.handle.db.select().from(deployments)).toHaveLength(0);
    const inOrder = await post('/deployments', { ...deployment, committed_at: '2026-11-23T08:00:00Z', started_at: '2026-11-23T08:30:00Z', finished_at: '2026-11-23T08:30:00Z' });
    expect(inOrder.status).toBe(201);
  });

  it('refuses a NUL character in text with 422 naming the field, and stores nothing', async () => {
    const title = await post('/changes', { ...change, title: 'a\u0000b' });
    expect(title.status).toBe(422);
    expect(title.body.error.details).toEqual([{ field: 'title', message: 'must not contain NUL characters (\\u0000)' }]);
    for (const field of ['environment', 'ref', 'description', 'rollback_plan', 'requested_by']) {
      const answer = await post('/changes', { ...change, [field]: 'prod\u0000' });
      expect(answer.status, field).toBe(422);
      expect(fieldsOf(answer)).toEqual([field]);
    }
    const deployed = await post('/deployments', { ...deployment, environment: 'stag\u0000ing', change_id: 'CHG-1\u0000' });
    expect(fieldsOf(deployed)).toEqual(['environment', 'change_id']);
    const sprinted = await t.api('PUT', '/sprints/PAY-1', { token: writer, body: { ...sprint, name: 'Sprint\u0000 42', features: [{ key: 'PAY-1', title: '\u0000', status: 'planned' }] } });
    expect(fieldsOf(sprinted)).toEqual(['name', 'features.0.title']);
    expect(await t.database.handle.db.select().from(changes)).toHaveLength(0);
    expect(await t.database.handle.db.select().from(sprints)).toHaveLength(0);
  });

  it('records an alert with NUL characters in its text, without them', async () => {
    const token = await t.token('incidents:write');
    const alert = await t.api('POST', '/incidents', { token, body: { title: 'Checkout\u0000 5xx', description: 'from\u0000 Alertmanager', dedup_key: 'checkout\u0000-5xx' } });
    expect(alert.status).toBe(201);
    expect(alert.body).toMatchObject({ title: 'Checkout 5xx' });
    await t.idle();
  });

  it('refuses dates PostgreSQL cannot store with 422, naming the field and the accepted range', async () => {
    const range = 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z (an ISO 8601 date-time, such as 2026-11-23T09:00:00Z)';
    for (const value of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-14:00']) {
      const planned = await post('/changes', { ...change, planned_start: value, planned_end: '2026-11-24T09:00:00Z' });
      expect(planned.status).toBe(422);
      expect(planned.body.error.details).toEqual([{ field: 'planned_start', message: range }]);
      const ended = await post('/changes', { ...change, planned_start: '2026-11-24T09:00:00Z', planned_end: value });
      expect(ended.body.error.details).toEqual([{ field: 'planned_end', message: range }]);
      for (const field of ['started_at', 'finished_at', 'committed_at']) {
        const answer = await post('/deployments', { ...deployment, [field]: value });
        expect(answer.status, field).toBe(422);
        expect(answer.body.error.details, field).toEqual([{ field, message: range }]);
      }
    }
    const sprinted = await t.api('PUT', '/sprints/PAY-1', { token: writer, body: { ...sprint, starts_on: '0000-01-01' } });
    expect(sprinted.body.error.details).toEqual([{ field: 'starts_on', message: 'must be a date between 1970-01-01 and 9999-12-31' }]);
    for (const query of ['from=0000-01-01T00:00:00Z', 'to=9999-12-31T23:59:59-14:00', 'from=9999-12-30&to=9999-12-31']) {
      const answer = await t.api('GET', `/metrics/dora?${query}`, { token: writer });
      expect(answer.status, query).toBe(422);
      expect(answer.body.error.details[0].message, query).toContain('between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z');
    }
  });

  it('answers malformed percent-encoding or a NUL in a path with a 400 envelope', async () => {
    for (const path of ['/changes/%E0%A4%A', '/changes/%', '/changes/CHG-1%00', '/sprints/%C0%AF']) {
      const answer = await t.api('GET', path, { token: writer });
      expect(answer.status, path).toBe(400);
      expect(answer.body.error.code, path).toBe('malformed_path');
    }
    expect((await t.api('GET', '/changes/CHG-404', { token: writer })).status).toBe(404);
  });

  it('refuses a report window on a date that does not exist, and a wait that is not plain seconds', async () => {
    const february = await t.api('GET', '/metrics/dora?from=2026-02-30', { token: writer });
    expect(february.status).toBe(422);
    expect(february.body.error.details).toEqual([
      { field: 'from', message: 'must be a real calendar date (2026-11-01) or an ISO 8601 date-time (2026-11-01T00:00:00Z), between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z' },
    ]);
    const { body: created } = await post('/changes', change);
    for (const wait of ['0x10', '1e1', '16.0', ' 5', '', '+5']) {
      const started = Date.now();
      const answer = await t.api('GET', `/changes/${created.key}?wait=${encodeURIComponent(wait)}`, { token: writer });
      expect(answer.status, wait).toBe(422);
      expect(answer.body.error.details, wait).toEqual([{ field: 'wait', message: 'must be a whole number of seconds from 0 to 60, such as wait=30' }]);
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    expect((await t.api('GET', `/changes/${created.key}?wait=0`, { token: writer })).status).toBe(200);
  });

  it('answers 503 with Retry-After when Slack cannot resolve requested_by, and still 422 for an unknown person', async () => {
    t.slack.failNext('users.lookupByEmail', { httpStatus: 503 });
    const down = await post('/changes', { ...change, requested_by: 'dev@example.com' });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('10');
    expect(down.body.error).toMatchObject({ code: 'dependency_unavailable', message: expect.stringContaining('Slack could not be asked') });

    t.slack.failNext('users.info', { rateLimitedFor: 7 });
    const limited = await post('/changes', { ...change, requested_by: 'U0DEV' });
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBe('7');

    // Slack not answering within the look-up's 5 s is Slack unreachable, not a refusal.
    t.slack.failNext('users.lookupByEmail', { delayMs: 6_000 });
    const started = Date.now();
    const unreachable = await post('/changes', { ...change, requested_by: 'dev@example.com' });
    expect(unreachable.status).toBe(503);
    expect(unreachable.headers.get('retry-after')).toBe('10');
    expect(Date.now() - started).toBeLessThan(5_900);

    t.slack.failNext('users.lookupByEmail', { error: 'fatal_error' });
    const retried = () => t.api('POST', '/changes', { token: writer, body: { ...change, requested_by: 'dev@example.com' }, headers: { 'idempotency-key': 'deploy-42' } });
    expect((await retried()).status).toBe(503);
    const before = await t.database.handle.db.select().from(changes);
    // The outage is not replayed to the pipeline's retry: the retry runs, once.
    const recovered = await retried();
    expect(recovered.status).toBe(201);
    expect((await retried()).headers.get('idempotent-replayed')).toBe('true');
    expect(await t.database.handle.db.select().from(changes)).toHaveLength(before.length + 1);

    const nobody = await post('/changes', { ...change, requested_by: 'ghost@example.com' });
    expect(nobody.status).toBe(422);
    expect(nobody.body.error.details).toEqual([{ field: 'requested_by', message: 'no Slack user ghost@example.com' }]);
    const back = await post('/changes', { ...change, requested_by: 'dev@example.com' });
    expect(back.status).toBe(201);
    expect(back.body.requested_by).toBe('U0DEV');
    expect(await t.database.handle.db.select().from(changes)).toHaveLength(before.length + 2);
  }, 20_000);

  it('never answers 500 to hostile values in any field of a body, a query or a path', async () => {
    // Node itself answers 431 to a URL over 16 KiB, before Tandem sees it; a URL cannot carry a lone surrogate.
    const inUrl = (value: unknown) => encodeURIComponent(Buffer.from(String(value).slice(0, 2_000)).toString());
    const hostile = fc.oneof(
      fc.constantFrom(...hostileStrings),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('\u0000', '\ud800', 'a', '-', 'T', ':', '0', '9', '%', 'é'), maxLength: 30 }),
      fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 })),
    );
    const targets: Array<{ name: string; send: (value: unknown) => Promise<{ status: number; body: any }> }> = [
      ...Object.keys({ ...change, ref: 0, commit_sha: 0, description: 0, justification: 0, rollback_plan: 0, planned_start: 0, planned_end: 0, requested_by: 0, risk: 0 }).map(
        (field) => ({ name: `POST /changes ${field}`, send: (value: unknown) => post('/changes', { ...change, [field]: value }) }),
      ),
      ...['service', 'environment', 'status', 'commit_sha', 'change_id', 'started_at', 'finished_at', 'committed_at', 'url'].map((field) => ({
        name: `POST /deployments ${field}`,
        send: (value: unknown) => post('/deployments', { ...deployment, [field]: value }),
      })),
      ...['title', 'description', 'dedup_key', 'service', 'severity', 'change_id'].map((field) => ({
        name: `POST /incidents ${field}`,
        send: (value: unknown) => post('/incidents', { title: 'Error rate above 5%', [field]: value }),
      })),
      ...['name', 'service', 'starts_on', 'ends_on'].map((field) => ({
        name: `PUT /sprints ${field}`,
        send: (value: unknown) => t.api('PUT', '/sprints/PAY-FUZZ', { token: writer, body: { ...sprint, [field]: value } }),
      })),
      {
        name: 'PUT /sprints feature title',
        send: (value: unknown) => t.api('PUT', '/sprints/PAY-FUZZ', { token: writer, body: { ...sprint, features: [{ key: 'F-1', title: value, status: 'planned' }] } }),
      },
      ...['from', 'to', 'service'].map((field) => ({
        name: `GET /metrics/dora ${field}`,
        send: (value: unknown) => t.api('GET', `/metrics/dora?${field}=${inUrl(value)}`, { token: writer }),
      })),
      { name: 'GET /changes/:id', send: (value: unknown) => t.api('GET', `/changes/${inUrl(value)}`, { token: writer }) },
      { name: 'GET /changes/:id raw', send: (value: unknown) => t.api('GET', `/changes/${String(value).slice(0, 2_000).replace(/[/?#\s]/g, '')}`, { token: writer }) },
      { name: 'PUT /sprints/:key', send: (value: unknown) => t.api('PUT', `/sprints/${inUrl(value)}`, { token: writer, body: sprint }) },
    ];
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), hostile, async (target, value) => {
        const answer = await target.send(value);
        if (answer.status >= 500 || (answer.status >= 400 && typeof answer.body?.error?.code !== 'string')) {
          failures.push(`${target.name} ${JSON.stringify(value).slice(0, 80)} → ${answer.status}`);
        }
        return answer.status < 500;
      }),
      { numRuns: 400, seed: 20261202 },
    ).catch((error) => {
      throw new Error(`${(error as Error).message.split('\n').slice(0, 4).join('\n')}\n${failures.join('\n')}`);
    });
    expect(failures).toEqual([]);
  }, 120_000);
});
