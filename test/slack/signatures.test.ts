import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents } from '../../src/db/schema';
import { pruneExpiredRecords } from '../../src/jobs/housekeeping';
import { signatureWindowSeconds } from '../../src/slack/signature';
import { type Harness, startHarness } from '../support/harness';
import { postSigned } from './signed';

const alice = 'U0ALICE';

describe('Slack request signatures', () => {
  let t: Harness;
  beforeAll(async () => {
    t = await startHarness({
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice] });
      },
    });
  });
  afterAll(() => t.stop());

  const now = () => Math.floor(t.clock.now().getTime() / 1000);
  const help = () => new URLSearchParams({ command: '/tandem', text: 'help', user_id: alice, channel_id: 'C0GENERAL', trigger_id: `1.2.${Math.random()}` }).toString();

  it.each([
    ['ten minutes in the future', 600],
    ['ten minutes in the past', -600],
    ['five minutes and a second in the future', signatureWindowSeconds + 1],
    ['five minutes and a second in the past', -(signatureWindowSeconds + 1)],
  ])('refuses a request signed %s with 401', async (_label, offset) => {
    expect((await postSigned(t, help(), { timestamp: now() + offset })).status).toBe(401);
  });

  it('refuses a timestamp of 1e20, and one that is not a number', async () => {
    expect((await postSigned(t, help(), { timestamp: 1e20 })).status).toBe(401);
    expect((await postSigned(t, help(), { headers: { 'x-slack-request-timestamp': 'soon' } })).status).toBe(401);
  });

  it('accepts a request signed up to five minutes away either way, by the app’s clock', async () => {
    expect((await postSigned(t, help(), { timestamp: now() + signatureWindowSeconds - 1 })).status).toBe(200);
    expect((await postSigned(t, help(), { timestamp: now() - signatureWindowSeconds + 1 })).status).toBe(200);
  });

  it('drops a replay signed within the window, after housekeeping has run: delivery keys outlive it', async () => {
    const body = new URLSearchParams({
      command: '/incident',
      text: 'Replayed outage',
      user_id: alice,
      channel_id: 'C0GENERAL',
      trigger_id: t.slack.issueTrigger(alice),
      response_url: t.slack.responseUrlFor({ channel: 'C0GENERAL', user: alice }),
    }).toString();
    const signedAt = now();
    expect((await postSigned(t, body, { timestamp: signedAt })).status).toBe(200);
    await t.idle();
    t.clock.advance((signatureWindowSeconds - 1) * 1000);
    await pruneExpiredRecords(t.database.handle.db, t.clock);
    expect((await postSigned(t, body, { timestamp: signedAt })).status).toBe(200);
    await t.idle();
    expect(await t.database.handle.db.select().from(incidents)).toHaveLength(1);
  });
});
