import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { hashToken, revokeApiToken } from '../../src/api/tokens';
import { apiTokens } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS }
    default_severity: 2
`;

describe('REST API: incidents', () => {
  let t: Harness;
  let writer: string;
  let reader: string;
  beforeAll(async () => {
    t = await startHarness({ catalog });
    writer = await t.token('incidents:write');
    reader = await t.token('read');
  });
  afterAll(() => t.stop());

  it('declares an incident, opens its swarm and returns it with its key', async () => {
    const created = await t.api('POST', '/incidents', {
      token: writer,
      body: { title: 'Error rate > 5% on checkout', service: 'payments', description: 'From Alertmanager' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      number: 1,
      key: 'INC-1',
      title: 'Error rate > 5% on checkout',
      severity: 2,
      status: 'investigating',
      service: 'payments',
      declared_at: '2026-11-23T09:00:00.000Z',
      resolved_at: null,
    });
    expect(created.body.declared_by).toMatch(/^api:test-/);
    await t.idle();
    const fetched = await t.api('GET', '/incidents/INC-1', { token: reader });
    expect(fetched.status).toBe(200);
    expect(fetched.body.channel).toEqual({ id: expect.any(String), name: 'inc-20261123-1-error-rate-5-on-checkout' });
    expect(fetched.body.timeline.map((event: { kind: string }) => event.kind)).toEqual(['declared', 'channel_created']);
    expect((await t.api('GET', `/incidents/${created.body.id}`, { token: reader })).body.key).toBe('INC-1');
    expect(t.slack.messagesIn('C0INCIDENTS')[0]!.text).toContain('by `api:test-');
  });

  it('answers an alert that fires twice with the same open incident', async () => {
    const body = { title: 'Disk 95% on db-1', severity: 'SEV1', dedup_key: 'disk-db-1' };
    const first = await t.api('POST', '/incidents', { token: writer, body });
    const again = await t.api('POST', '/incidents', { token: writer, body });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(first.body.severity).toBe(1);
    await t.idle();
    expect(t.slack.callsOf('conversations.create').filter((call) => String(call.name).includes('disk-95'))).toHaveLength(1);
  });

  it('replays the first answer to a retried POST with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'deploy-42-alert' };
    const first = await t.api('POST', '/incidents', { token: writer, body: { title: 'Latency spike' }, headers });
    const retry = await t.api('POST', '/incidents', { token: writer, body: { title: 'Latency spike' }, headers });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const reused = await t.api('POST', '/incidents', { token: writer, body: { title: 'Something else' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  it('rejects malformed JSON with 400', async () => {
    const answer = await t.api('POST', '/incidents', { token: writer, body: '{"title": ' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'malformed_json', message: expect.stringContaining('not valid JSON') });
  });

  it('refuses an alert only for a missing title, and records one with unreadable fields with warnings', async () => {
    const answer = await t.api('POST', '/incidents', { token: writer, body: { title: '', severity: 9, colour: 'red' } });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details).toEqual([{ field: 'title', message: 'is required' }]);
    const recorded = await t.api('POST', '/incidents', { token: writer, body: { title: 'x', service: 'billing', severity: 9, colour: 'red' } });
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({ title: 'x', service: null, severity: 3 });
    expect(recorded.body.warnings).toEqual([
      'Ignored "colour": Tandem does not read that field.',
      expect.stringContaining('Severity 9 is not one Tandem reads'),
      'Service "billing" is not in the catalog, so the incident has no service.',
    ]);
  });

  it('refuses missing, wrong and revoked tokens with 401, and a missing scope with 403', async () => {
    expect((await t.api('POST', '/incidents', { body: { title: 'x' } })).status).toBe(401);
    const wrong = await t.api('POST', '/incidents', { token: 'tdm_not-a-real-token', body: { title: 'x' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    const forbidden = await t.api('POST', '/incidents', { token: reader, body: { title: 'x' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'insufficient_scope', details: { required: ['incidents:write'], granted: ['read'] } });

    const doomed = await t.token('read');
    expect((await t.api('GET', '/incidents/INC-1', { token: doomed })).status).toBe(200);
    const [row] = await t.database.handle.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hashToken(doomed)));
    await revokeApiToken(t.database.handle.db, t.clock, row!.name);
    // Verified tokens are cached for ten seconds; past that, the revocation holds.
    t.clock.advance(11_000);
    expect((await t.api('GET', '/incidents/INC-1', { token: doomed })).status).toBe(401);
    expect((await t.api('GET', '/incidents/INC-1', { token: reader })).status).toBe(200);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const answer = await t.api('POST', '/incidents', { token: writer, body: { title: 'x'.repeat(1024 * 1024) } });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const missing = await t.api('GET', '/incidents/INC-999', { token: reader });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('incident_not_found');
    expect((await t.api('GET', '/nothing-here', { token: reader })).status).toBe(404);
    for (const method of ['PUT', 'PATCH']) {
      const wrongMethod = await t.api(method, '/incidents', { token: reader, body: {} });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
    }
  });
});
