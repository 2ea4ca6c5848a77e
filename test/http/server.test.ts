import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

describe('HTTP surface', () => {
  let t: Harness;
  beforeAll(async () => {
    t = await startHarness({ workspace: (slack) => slack.addUser({ id: 'U0ALICE', name: 'alice' }) });
  });
  afterAll(() => t.stop());

  const command = new URLSearchParams({
    command: '/incident',
    text: 'Should never be declared',
    user_id: 'U0ALICE',
    channel_id: 'C0GENERAL',
    trigger_id: '1.2.abc',
    response_url: 'https://slack.test/response/none',
  }).toString();

  it('refuses unsigned, badly signed and stale Slack requests with 401 and changes nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await t.simulator.send(command, {}, { unsigned: true })).status).toBe(401);
    expect((await t.simulator.send(command, {}, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await t.simulator.send(command, {}, { timestamp: now - 6 * 60 })).status).toBe(401);
    expect((await t.simulator.send(command, { 'x-slack-signature': 'v0=deadbeef' })).status).toBe(401);
    await t.idle();
    expect(await t.database.handle.db.select().from(incidents)).toHaveLength(0);
    expect(t.slack.callsOf('conversations.create')).toHaveLength(0);
  });

  it('answers Slack URL verification', async () => {
    const answer = await t.simulator.send(JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'x' }), {
      'content-type': 'application/json',
    });
    expect(answer).toEqual({ status: 200, body: { challenge: 'c-123' } });
  });

  it('serves health and readiness', async () => {
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${t.baseUrl}/nowhere`)).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/slack/events`)).status).toBe(405);
  });

  it('reports not ready when the database does not answer', async () => {
    await t.database.handle.close();
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'the database does not answer' });
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });
});
