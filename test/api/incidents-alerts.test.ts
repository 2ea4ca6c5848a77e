import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents, problems } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS, customers: [C0ACME] }
    default_severity: 2
  search:
    owners: [U0OWNER2]
`;

const alice = 'U0ALICE';

/** What Alertmanager's webhook_config sends (version 4), for one group of alerts. */
function alertmanagerBody(overrides: { status?: 'firing' | 'resolved'; groupKey?: string; labels?: Record<string, string>; summary?: string } = {}) {
  const labels = { alertname: 'CheckoutErrors', service: 'payments', severity: 'critical', ...overrides.labels };
  const annotations = {
    ...(overrides.summary === undefined ? { summary: 'Checkout error rate above 5%' } : overrides.summary ? { summary: overrides.summary } : {}),
    description: 'More than 5% of checkouts fail.',
    runbook_url: 'https://runbooks.example.com/checkout',
  };
  const status = overrides.status ?? 'firing';
  return {
    version: '4',
    groupKey: overrides.groupKey ?? '{}/{service="payments"}:{alertname="CheckoutErrors"}',
    truncatedAlerts: 0,
    status,
    receiver: 'tandem',
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: ['eu-1', 'us-1'].map((zone) => ({
      status,
      labels: { ...labels, zone },
      annotations,
      startsAt: '2026-11-23T08:55:00Z',
      endsAt: status === 'resolved' ? '2026-11-23T09:30:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: `http://prometheus.example.com:9090/graph?g0.expr=checkout_errors%7Bzone%3D%22${zone}%22%7D`,
      fingerprint: `fp-${zone}`,
    })),
  };
}

describe('REST API: alerts from monitoring tools', () => {
  let t: Harness;
  let writer: string;
  let reader: string;
  let privateReader: string;
  let privateWriter: string;
  beforeAll(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice] });
      },
    });
    writer = await t.token('incidents:write');
    reader = await t.token('read');
    privateReader = await t.token('read', 'incidents:private');
    privateWriter = await t.token('incidents:write', 'incidents:private');
  });
  afterAll(() => t.stop());

  const incidentCount = async () => (await t.database.handle.db.select().from(incidents)).length;

  it('records an alert it can read, whatever else is wrong with it, and says what it changed', async () => {
    const title = `Checkout is failing for every customer in every region: ${'card authorisation times out, '.repeat(12)}end`;
    const answer = await t.api('POST', '/incidents', {
      token: writer,
      body: { title, service: 'billing', severity: 'P1', colour: 'red', labels: { team: 'checkout' }, description: 'From Datadog' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.title).toHaveLength(150);
    expect(answer.body.title).toBe(`${title.slice(0, 149).trimEnd()}…`);
    expect(answer.body.description).toBe(`${title}\n\nFrom Datadog`);
    expect(answer.body).toMatchObject({ service: null, severity: 3, status: 'investigating' });
    expect(answer.body.warnings).toEqual([
      'Ignored "colour": Tandem does not read that field.',
      'Ignored "labels": Tandem does not read that field.',
      expect.stringContaining('Severity "P1" is not one Tandem reads'),
      'Service "billing" is not in the catalog, so the incident has no service.',
      `The title was ${title.length} characters, so it is shortened to 150; the whole text opens the description.`,
    ]);

    await t.idle();
    const fetched = await t.api('GET', `/incidents/${answer.body.key}`, { token: reader });
    expect(fetched.body.timeline.filter((event: { kind: string }) => event.kind === 'note')).toEqual([
      expect.objectContaining({ by: 'tandem', text: expect.stringContaining('Severity "P1"') }),
      expect.objectContaining({ by: 'tandem', text: 'Service "billing" is not in the catalog, so the incident has no service.' }),
      expect.objectContaining({ by: 'tandem', text: expect.stringContaining('shortened to 150') }),
    ]);
    expect(fetched.body.channel.name).toMatch(/^inc-20261123-\d+-checkout-is-failing/);
  });

  it('reads the severity words monitoring tools use, and text sent as numbers', async () => {
    const answer = await t.api('POST', '/incidents', { token: writer, body: { title: 404, severity: 'critical', service: 'Payments' } });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ title: '404', severity: 1, service: 'payments', warnings: [] });
  });

  it('records an alert with NUL characters, without them', async () => {
    const answer = await t.api('POST', '/incidents', {
      token: writer,
      headers: { 'idempotency-key': 'nul-alert' },
      body: { title: 'Disk\u0000 full', description: { host: 'db\u00001' }, dedup_key: 'disk\u0000', 'odd\u0000field': 1 },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ title: 'Disk full', dedup_key: 'disk', warnings: ['Ignored "oddfield": Tandem does not read that field.'] });
    // Structured detail is kept as JSON, where a NUL is an escape PostgreSQL can store.
    expect(JSON.parse(answer.body.description)).toEqual({ host: 'db\u00001' });
    const manager = alertmanagerBody({ groupKey: '{}:{alertname="Nul\u0000"}', labels: { alertname: 'Nul\u0000Alert', service: 'search' }, summary: '' });
    const fromAlertmanager = await t.api('POST', '/incidents', { token: writer, body: manager });
    expect(fromAlertmanager.status).toBe(201);
    expect(fromAlertmanager.body.title).toBe('NulAlert');
  });

  it('records the alert without a cause it cannot find', async () => {
    const answer = await t.api('POST', '/incidents', {
      token: writer,
      body: { title: 'Payments down after deploy', change_id: 'CHG-999', deployment_id: 'not-a-uuid' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.caused_by_change_id).toBeNull();
    expect(answer.body.warnings).toEqual([
      'Ignored "change_id": there is no change CHG-999.',
      'Ignored "deployment_id": there is no deployment not-a-uuid.',
    ]);
  });

  it('keeps an over-long dedup_key working: a repeat still matches, a different one does not', async () => {
    const key = `alert/${'x'.repeat(400)}`;
    const first = await t.api('POST', '/incidents', { token: writer, body: { title: 'Queue backlog', dedup_key: key } });
    const repeat = await t.api('POST', '/incidents', { token: writer, body: { title: 'Queue backlog', dedup_key: key } });
    const other = await t.api('POST', '/incidents', { token: writer, body: { title: 'Queue backlog', dedup_key: `${key}y` } });
    expect(first.status).toBe(201);
    expect(first.body.dedup_key).toHaveLength(255);
    expect(first.body.warnings).toEqual([expect.stringContaining('dedup_key is over 255 characters')]);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(first.body.id);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('answers 422 only when there is no title or the body is not a JSON object', async () => {
    const before = await incidentCount();
    for (const body of [{}, { title: '   ' }, { title: { text: 'nested' } }, { description: 'no title' }]) {
      const answer = await t.api('POST', '/incidents', { token: writer, body });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'title', message: 'is required' }] });
    }
    for (const body of ['[]', '"Checkout down"', 'null', '42']) {
      const answer = await t.api('POST', '/incidents', { token: writer, body });
      expect(answer.status).toBe(422);
      expect(answer.body.error.details).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
    }
    expect((await t.api('POST', '/incidents', { token: writer })).status).toBe(422);
    expect(await incidentCount()).toBe(before);
  });

  it('records an imperfect alert on the first try, so a retry with the same Idempotency-Key replays the incident', async () => {
    const headers = { 'idempotency-key': 'datadog-event-77' };
    const body = { title: 'x'.repeat(300), service: 'billing', priority: 'P2' };
    const first = await t.api('POST', '/incidents', { token: writer, body, headers });
    const retry = await t.api('POST', '/incidents', { token: writer, body, headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('resolves the open incident with a dedup_key, and creates nothing when none is open', async () => {
    const declared = await t.api('POST', '/incidents', { token: writer, body: { title: 'Checkout latency', service: 'payments', dedup_key: 'latency-1' } });
    await t.idle();
    t.clock.advance(20 * 60_000);
    const resolved = await t.api('POST', '/incidents', { token: writer, body: { dedup_key: 'latency-1', status: 'resolved', summary: 'Cache warmed up' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ id: declared.body.id, status: 'resolved', resolution: 'Cache warmed up', time_to_restore_seconds: 1200, warnings: [] });
    await t.idle();
    const channel = declared.body.id && (await t.api('GET', `/incidents/${declared.body.id}`, { token: reader })).body.channel.id;
    // The resolution, then the postmortem draft.
    expect(t.slack.messagesIn(channel).slice(-2).map((message) => message.text)).toEqual([
      expect.stringContaining('resolved INC-'),
      expect.stringContaining('postmortem draft'),
    ]);
    expect(t.slack.messagesIn('C0INCIDENTS').at(-1)!.text).toContain('resolved after 20m: Cache warmed up');

    const before = await incidentCount();
    const again = await t.api('POST', '/incidents', { token: writer, body: { dedup_key: 'latency-1', status: 'resolved' } });
    expect(again.status).toBe(404);
    expect(again.body.error).toMatchObject({ code: 'incident_not_found', message: expect.stringContaining('nothing was created') });
    const never = await t.api('POST', '/incidents', { token: writer, body: { title: 'Never declared', dedup_key: 'never', status: 'resolved' } });
    expect(never.status).toBe(404);
    expect(await incidentCount()).toBe(before);

    const keyless = await t.api('POST', '/incidents', { token: writer, body: { status: 'resolved' } });
    expect(keyless.status).toBe(422);
    expect(keyless.body.error.details).toEqual([{ field: 'dedup_key', message: 'is required with status "resolved"' }]);

    // The key is free again: the next alert under it is a new incident.
    const next = await t.api('POST', '/incidents', { token: writer, body: { title: 'Checkout latency', dedup_key: 'latency-1' } });
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(declared.body.id);
  });

  it('changes an incident with PATCH as the Slack commands do', async () => {
    const declared = await t.api('POST', '/incidents', { token: writer, body: { title: 'Refunds stuck', service: 'payments' } });
    await t.idle();
    const id = declared.body.key;
    const channel = (await t.api('GET', `/incidents/${id}`, { token: reader })).body.channel.id;

    const patched = await t.api('PATCH', `/incidents/${id}`, { token: writer, body: { severity: 1, status: 'identified', update: 'Queue consumer restarted' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ key: id, severity: 1, status: 'identified' });
    await t.idle();
    const posts = t.slack.messagesIn(channel).map((message) => message.text);
    expect(posts).toEqual(
      expect.arrayContaining([
        expect.stringContaining('changed severity SEV2 → *SEV1*'),
        expect.stringContaining('Queue consumer restarted'),
      ]),
    );
    expect(t.slack.messagesIn('C0INCIDENTS').at(-1)!.text).toContain('Queue consumer restarted');
    expect(t.slack.messagesIn('C0ACME').map((message) => message.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('We have identified the cause of the issue affecting *payments*')]),
    );
    const summary = t.slack.messagesIn(channel).find((message) => message.pinned)!;
    expect(summary.text).toContain('(SEV1, Identified)');

    // Sending what is already so changes nothing and is not an error.
    expect((await t.api('PATCH', `/incidents/${id}`, { token: writer, body: { severity: 'SEV1' } })).status).toBe(200);

    const fetched = await t.api('GET', `/incidents/${id}`, { token: reader });
    expect(fetched.body.timeline.filter((event: { by: string }) => event.by.startsWith('api:')).map((event: { kind: string }) => event.kind)).toEqual([
      'declared',
      'severity',
      'status',
      'update',
    ]);

    const resolved = await t.api('PATCH', `/incidents/${id}`, { token: writer, body: { status: 'resolved', update: 'Backlog drained' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'Backlog drained' });
    const late = await t.api('PATCH', `/incidents/${id}`, { token: writer, body: { severity: 2 } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('incident_resolved');
  });

  it('refuses a PATCH it cannot apply with the field that is wrong', async () => {
    const declared = await t.api('POST', '/incidents', { token: writer, body: { title: 'Search slow' } });
    const id = declared.body.id;
    const empty = await t.api('PATCH', `/incidents/${id}`, { token: writer, body: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.error.message).toContain('send at least one of severity, status or update');
    const wrong = await t.api('PATCH', `/incidents/${id}`, { token: writer, body: { severity: 7, status: 'fixed', sevrity: 1 } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'severity', message: 'must be 1, 2, 3 or 4 (or "SEV1" to "SEV4")' },
        { field: 'status', message: 'must be one of investigating, identified, monitoring, resolved' },
        { field: '(body)', message: expect.stringContaining('sevrity') },
      ]),
    );
    expect((await t.api('PATCH', '/incidents/INC-9999', { token: writer, body: { severity: 1 } })).status).toBe(404);
    expect((await t.api('PATCH', `/incidents/${id}`, { token: reader, body: { severity: 1 } })).status).toBe(403);
    expect((await t.api('GET', `/incidents/${id}`, { token: reader })).body.severity).toBe(3);
  });

  it('shows roles and follow-ups with the incident', async () => {
    const declared = await t.api('POST', '/incidents', { token: writer, body: { title: 'Webhooks delayed' } });
    await t.database.handle.db.update(incidents).set({ commander: alice }).where(eq(incidents.id, declared.body.id));
    await t.database.handle.db
      .insert(problems)
      .values({ incidentId: declared.body.id, title: 'Alert on webhook lag', owner: alice, createdBy: alice, createdAt: t.clock.now() });
    const fetched = await t.api('GET', `/incidents/${declared.body.id}`, { token: reader });
    expect(fetched.body.roles).toEqual({ commander: alice, comms: null, scribe: null });
    expect(fetched.body.follow_ups).toEqual([{ key: expect.stringMatching(/^PRB-\d+$/), title: 'Alert on webhook lag', owner: alice, state: 'open' }]);
    expect(fetched.body.timeline[0]).toEqual({
      at: expect.stringMatching(/^2026-11-23T/),
      kind: 'declared',
      by: expect.stringMatching(/^api:test-/),
      actor: expect.stringMatching(/^api:test-/),
      text: 'Declared SEV3: Webhooks delayed',
      data: expect.any(Object),
    });
  });

  describe('Alertmanager', () => {
    it('declares an incident from its webhook body, once per alert group', async () => {
      const first = await t.api('POST', '/incidents', { token: writer, body: alertmanagerBody() });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        title: 'Checkout error rate above 5%',
        service: 'payments',
        severity: 1,
        dedup_key: '{}/{service="payments"}:{alertname="CheckoutErrors"}',
        warnings: [],
      });
      expect(first.body.description).toContain('More than 5% of checkouts fail.');
      expect(first.body.description).toContain('runbook_url: https://runbooks.example.com/checkout');
      expect(first.body.description).toContain('Alerts: 2 firing');
      expect(first.body.description).toContain('• [firing] Checkout error rate above 5% (zone=eu-1) since 2026-11-23T08:55:00Z');
      expect(first.body.description).toContain('http://prometheus.example.com:9090/graph?g0.expr=checkout_errors%7Bzone%3D%22us-1%22%7D');
      expect(first.body.description).toContain('Alertmanager: http://alertmanager.example.com:9093');

      // Alertmanager repeats a firing group every repeat_interval.
      const repeat = await t.api('POST', '/incidents', { token: writer, body: alertmanagerBody() });
      expect(repeat.status).toBe(200);
      expect(repeat.body.id).toBe(first.body.id);

      const resolved = await t.api('POST', '/incidents', { token: writer, body: alertmanagerBody({ status: 'resolved' }) });
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({ id: first.body.id, status: 'resolved' });
      expect((await t.api('POST', '/incidents', { token: writer, body: alertmanagerBody({ status: 'resolved' }) })).status).toBe(404);
    });

    it('falls back to the alert name and the default severity, and says so', async () => {
      const answer = await t.api('POST', '/incidents', {
        token: writer,
        body: alertmanagerBody({ groupKey: '{}:{alertname="DiskFull"}', summary: '', labels: { alertname: 'DiskFull', service: 'search', severity: 'page' } }),
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ title: 'DiskFull', service: 'search', severity: 3 });
      expect(answer.body.warnings).toEqual([expect.stringContaining('Severity "page" is not one Tandem reads')]);
    });
  });

  describe('private incidents', () => {
    let secret: { id: string; number: number };
    beforeAll(async () => {
      await t.simulator.command(alice, 'C0GENERAL', '/incident', 'Leaked signing key for payouts --private');
      await t.idle();
      const [row] = await t.database.handle.db.select().from(incidents).where(eq(incidents.private, true));
      secret = row!;
      // Only a monitoring tool sets dedup keys; this one's alert matches the private incident.
      await t.database.handle.db.update(incidents).set({ dedupKey: 'secret-scan-1' }).where(eq(incidents.id, secret.id));
    });

    it('answers only tokens with incidents:private', async () => {
      for (const reference of [secret.id, `INC-${secret.number}`]) {
        const hidden = await t.api('GET', `/incidents/${reference}`, { token: reader });
        expect(hidden.status).toBe(404);
        expect(JSON.stringify(hidden.body)).not.toContain('Leaked');
      }
      const shown = await t.api('GET', `/incidents/${secret.id}`, { token: privateReader });
      expect(shown.status).toBe(200);
      expect(shown.body.title).toBe('Leaked signing key for payouts');

      const listed = await t.api('GET', '/incidents?limit=100', { token: reader });
      expect(listed.body.items.map((item: { id: string }) => item.id)).not.toContain(secret.id);
      expect(JSON.stringify(listed.body)).not.toContain('Leaked');
      const listedWithScope = await t.api('GET', '/incidents?limit=100', { token: privateReader });
      expect(listedWithScope.body.items.map((item: { id: string }) => item.id)).toContain(secret.id);

      expect((await t.api('PATCH', `/incidents/${secret.id}`, { token: writer, body: { update: 'x' } })).status).toBe(404);
      expect((await t.api('PATCH', `/incidents/${secret.id}`, { token: privateWriter, body: { severity: 2 } })).status).toBe(200);
    });

    it('tells a monitoring tool its alert joined a private incident, without its title or channel', async () => {
      const answer = await t.api('POST', '/incidents', { token: writer, body: { title: 'Secret found in repository', dedup_key: 'secret-scan-1' } });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ id: secret.id, key: `INC-${secret.number}`, private: true, status: 'investigating' });
      expect(answer.body).not.toHaveProperty('title');
      expect(answer.body).not.toHaveProperty('channel');
      expect(answer.body).not.toHaveProperty('declared_by');
      expect(JSON.stringify(answer.body)).not.toMatch(/Leaked|inc-2026/);
      expect(answer.body.warnings).toEqual([expect.stringContaining('is private: this token lacks the incidents:private scope')]);

      const withScope = await t.api('POST', '/incidents', { token: privateWriter, body: { title: 'Secret found in repository', dedup_key: 'secret-scan-1' } });
      expect(withScope.body.title).toBe('Leaked signing key for payouts');

      const resolved = await t.api('POST', '/incidents', { token: writer, body: { dedup_key: 'secret-scan-1', status: 'resolved' } });
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({ id: secret.id, status: 'resolved', private: true });
      expect(JSON.stringify(resolved.body)).not.toMatch(/Leaked|inc-2026|U0ALICE/);
    });
  });

  describe('GET /incidents', () => {
    it('lists newest first in stable pages, across ties on declared_at', async () => {
      t.clock.advance(60 * 60_000);
      // Five incidents declared in the same millisecond, and one later.
      for (const n of [1, 2, 3, 4, 5]) await t.api('POST', '/incidents', { token: writer, body: { title: `Tie ${n}`, service: 'search' } });
      t.clock.advance(1000);
      await t.api('POST', '/incidents', { token: writer, body: { title: 'Latest', service: 'search' } });

      const seen: Array<{ id: string; title: string; declared_at: string }> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { status: number; body: any } = await t.api('GET', `/incidents?service=search&status=open&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: reader });
        expect(page.status).toBe(200);
        seen.push(...page.body.items);
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor && pages < 10);
      const ours = seen.filter((item) => item.title.startsWith('Tie') || item.title === 'Latest');
      expect(ours[0]!.title).toBe('Latest');
      expect(ours).toHaveLength(6);
      expect(new Set(seen.map((item) => item.id)).size).toBe(seen.length);
      const ties = ours.slice(1).map((item) => item.id);
      expect(ties).toEqual([...ties].sort().reverse());
      const all = await t.api('GET', '/incidents?service=search&status=open&limit=100', { token: reader });
      expect(all.body.items.map((item: { id: string }) => item.id)).toEqual(seen.map((item) => item.id));
      expect(all.body.next_cursor).toBeNull();
    });

    it('filters by status', async () => {
      const resolved = await t.api('GET', '/incidents?status=resolved&limit=100', { token: reader });
      expect(resolved.body.items.length).toBeGreaterThan(0);
      expect(resolved.body.items.every((item: { status: string }) => item.status === 'resolved')).toBe(true);
      const open = await t.api('GET', '/incidents?status=open&limit=100', { token: writer });
      expect(open.body.items.every((item: { status: string }) => item.status !== 'resolved')).toBe(true);
    });

    it('refuses a cursor it did not give out, an unknown status and an unknown service', async () => {
      for (const cursor of ['garbage', Buffer.from('["yesterday","x"]').toString('base64url')]) {
        const answer = await t.api('GET', `/incidents?cursor=${cursor}`, { token: reader });
        expect(answer.status).toBe(422);
        expect(answer.body.error).toMatchObject({ code: 'invalid_cursor', details: [{ field: 'cursor', message: 'must be the next_cursor of a previous page' }] });
      }
      const status = await t.api('GET', '/incidents?status=closed', { token: reader });
      expect(status.status).toBe(422);
      expect(status.body.error.details).toEqual([{ field: 'status', message: 'must be open or resolved' }]);
      expect((await t.api('GET', '/incidents?service=billing', { token: reader })).status).toBe(422);
      expect((await t.api('GET', '/incidents?limit=0', { token: reader })).status).toBe(422);
    });
  });
});
