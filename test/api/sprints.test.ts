import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sprintFeatureEvents } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
    channels: { incidents: C0PAYINC, customers: [C0ACME] }
  search:
    owners: [U0SEARCH]
`;

const sprint42 = {
  name: 'Sprint 42',
  service: 'payments',
  starts_on: '2026-11-23',
  ends_on: '2026-12-04',
  features: [
    { key: 'PAY-101', title: 'Export invoices as PDF', status: 'in-dev' },
    { key: 'PAY-102', title: 'Rework the billing ledger', status: 'planned', customer_visible: false },
  ],
};

describe('REST API: sprints', () => {
  let t: Harness;
  let writer: string;
  beforeAll(async () => {
    t = await startHarness({ catalog });
    writer = await t.token('sprints:write');
    await t.simulator.command('U0OWNER', 'C0PAYINC', '/sprint', 'subscribe <#C0ACME|acme>');
    await t.idle();
  });
  afterAll(() => t.stop());

  const put = (key: string, body: unknown, token = writer) => t.api('PUT', `/sprints/${key}`, { token, body });
  const digest = () => t.slack.messagesIn('C0ACME');

  it('creates a sprint, posts its digest, and answers the same body again without changing anything', async () => {
    const created = await put('PAY-2026-47', sprint42);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.any(String),
      key: 'PAY-2026-47',
      name: 'Sprint 42',
      service: 'payments',
      starts_on: '2026-11-23',
      ends_on: '2026-12-04',
      features: [
        { key: 'PAY-101', title: 'Export invoices as PDF', status: 'in-dev', customer_visible: true, status_changed_at: '2026-11-23T09:00:00.000Z' },
        { key: 'PAY-102', title: 'Rework the billing ledger', status: 'planned', customer_visible: false, status_changed_at: '2026-11-23T09:00:00.000Z' },
      ],
      created_at: '2026-11-23T09:00:00.000Z',
      updated_at: '2026-11-23T09:00:00.000Z',
    });
    await t.idle();
    expect(digest()).toHaveLength(1);
    expect(JSON.stringify(digest()[0]!.blocks)).toContain('Export invoices as PDF');
    expect(JSON.stringify(digest()[0]!.blocks)).not.toContain('ledger');

    t.clock.advance(60_000);
    const again = await put('PAY-2026-47', sprint42);
    expect(again.body).toEqual(created.body);
    await t.idle();
    expect(digest()).toHaveLength(1);
    expect(digest()[0]!.edited).toBe(false);
    expect(await t.database.handle.db.select().from(sprintFeatureEvents)).toHaveLength(2);
    expect((await t.api('GET', '/sprints/PAY-2026-47', { token: writer })).body).toEqual(created.body);
  });

  it('updates statuses in place, drops features the tracker no longer lists, and records when', async () => {
    t.clock.advance(3_600_000);
    const updated = await put('PAY-2026-47', {
      ...sprint42,
      features: [
        { key: 'pay-101', title: 'Export invoices as PDF', status: 'done' },
        { key: 'PAY-103', title: 'Pay by bank transfer', status: 'planned' },
      ],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.features.map((feature: { key: string; status: string }) => [feature.key, feature.status])).toEqual([
      ['PAY-101', 'done'],
      ['PAY-102', 'dropped'],
      ['PAY-103', 'planned'],
    ]);
    expect(updated.body.features[0].status_changed_at).toBe(t.clock.now().toISOString());
    await t.idle();
    expect(digest()).toHaveLength(1);
    expect(digest()[0]!.edited).toBe(true);
    expect(digest()[0]!.text).toBe('Sprint 42 (payments): 1 of 2 features done');
    expect(JSON.stringify(digest()[0]!.blocks)).not.toContain('ledger');
  });

  it('names every invalid field', async () => {
    const answer = await put('PAY-2026-48', {
      name: '',
      starts_on: '2026-12-07',
      ends_on: '2026-12-01',
      features: [
        { key: 'PAY 1', title: 'x', status: 'shipped' },
        { key: 'a-1', title: 'A', status: 'done' },
        { key: 'A-1', title: 'B', status: 'done', customer_visible: 'yes' },
      ],
      colour: 'blue',
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'is required' },
        { field: '(body)', message: expect.stringContaining('colour') },
        { field: 'features.0.key', message: 'must be letters, digits, ".", "_" or "-" (for example PAY-123)' },
        { field: 'features.0.status', message: 'must be one of planned, in-dev, in-uat, done, dropped' },
        { field: 'features.2.customer_visible', message: 'must be true or false' },
      ]),
    );
    const dates = await put('PAY-2026-48', { ...sprint42, starts_on: '2026-12-07', ends_on: '2026-12-01' });
    expect(dates.body.error.details).toEqual([{ field: 'ends_on', message: 'must not be before starts_on' }]);
    const twice = await put('PAY-2026-48', { ...sprint42, features: [sprint42.features[0], { ...sprint42.features[0], key: 'pay-101' }] });
    expect(twice.body.error.details).toEqual([{ field: 'features.1.key', message: 'repeats features.0.key' }]);
    const badDate = await put('PAY-2026-48', { ...sprint42, starts_on: '2026-02-30' });
    expect(badDate.body.error.details).toEqual([{ field: 'starts_on', message: 'must be a real calendar date written YYYY-MM-DD, such as 2026-11-23' }]);
  });

  it('needs the service of a new sprint, keeps a sprint in its service, and checks scopes', async () => {
    const { service: _service, ...withoutService } = sprint42;
    const unnamed = await put('NEW-1', withoutService);
    expect(unnamed.status).toBe(422);
    expect(unnamed.body.error.message).toBe('Say which service the sprint belongs to. Known services: payments, search.');
    const unknown = await put('NEW-1', { ...sprint42, service: 'billing' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_service');
    const moved = await put('PAY-2026-47', { ...sprint42, service: 'search' });
    expect(moved.status).toBe(409);
    expect(moved.body.error.message).toBe('Sprint PAY-2026-47 belongs to payments; a sprint cannot move to another service.');
    const kept = await put('PAY-2026-47', withoutService);
    expect(kept.status).toBe(200);

    expect((await t.api('PUT', '/sprints/PAY-2026-47', { body: sprint42 })).status).toBe(401);
    expect((await put('PAY-2026-47', sprint42, await t.token('incidents:write'))).status).toBe(403);
    expect((await t.api('GET', '/sprints/NOPE', { token: await t.token('read') })).status).toBe(404);
    expect((await put('bad key!', sprint42)).status).toBe(422);
  });

  it('does not announce a sprint created for the past', async () => {
    const before = digest().length;
    const old = await put('PAY-2026-45', { ...sprint42, name: 'Sprint 40', starts_on: '2026-10-26', ends_on: '2026-11-06' });
    expect(old.status).toBe(200);
    await t.idle();
    expect(digest()).toHaveLength(before);
  });
});
