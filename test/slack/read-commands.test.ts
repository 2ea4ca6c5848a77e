import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackDeliveries } from '../../src/db/schema';
import { changeCommandReadsOnly } from '../../src/changes/model';
import { incidentCommandReadsOnly } from '../../src/incidents/model';
import { sprintCommandReadsOnly } from '../../src/sprints/model';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0ANN]
    approvers: { users: [U0BEN] }
`;

const ann = 'U0ANN';

describe('read-only slash commands', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [ann] }) });
  });
  afterEach(() => t.stop());

  const claims = async () => (await t.database.handle.db.select({ key: slackDeliveries.key }).from(slackDeliveries)).map((row) => row.key);
  const formOf = (command: string, text: string, trigger: string) =>
    new URLSearchParams({
      command,
      text,
      user_id: ann,
      channel_id: 'C0GENERAL',
      team_id: t.slack.teamId,
      trigger_id: trigger,
      response_url: t.slack.responseUrlFor({ channel: 'C0GENERAL', user: ann }),
    }).toString();

  it('make no delivery claim, while a command that changes something claims its delivery', async () => {
    const reads: Array<[string, string]> = [
      ['/change', 'list'],
      ['/change', 'help'],
      ['/change', 'calendar'],
      ['/incident', 'help'],
      ['/incident', 'timeline'],
      ['/incident', 'catchup'],
      ['/sprint', 'show service=payments'],
      ['/tandem', 'help'],
      ['/tandem', 'kpis payments'],
    ];
    for (const [command, text] of reads) expect((await t.simulator.command(ann, 'C0GENERAL', command, text)).status).toBe(200);
    await t.idle();
    expect(await claims()).toEqual([]);
    expect(t.slack.ephemeralsFor(ann)).toHaveLength(reads.length);

    const request = formOf('/change', 'payments Rotate keys', 'T-WRITE');
    await t.simulator.send(request);
    await t.simulator.send(request, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    await t.idle();
    expect(await claims()).toEqual(['command:T-WRITE']);
    expect(t.slack.ephemeralsFor(ann).filter((reply) => reply.text.startsWith('Requested *CHG-1*'))).toHaveLength(1);
  });

  it('answer a repeated delivery again, since answering twice changes nothing', async () => {
    const list = formOf('/change', 'list', 'T-READ');
    const first = await t.simulator.send(list);
    const retried = await t.simulator.send(list, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(first.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('No open changes.') });
    expect(retried.body).toEqual(first.body);
  });

  it('are told apart from writes by each domain’s own parser', () => {
    for (const text of ['list', 'list payments', 'calendar', 'help', 'list a b c']) expect(changeCommandReadsOnly(text)).toBe(true);
    for (const text of ['', 'payments Rotate keys', 'cancel CHG-1', 'reviewed CHG-1', 'reviewed']) {
      // `reviewed` alone is an invalid command, answered with its usage and nothing else.
      expect(changeCommandReadsOnly(text)).toBe(text === 'reviewed');
    }
    for (const text of ['help', 'timeline', 'timeline 2', 'catchup', 'followups']) expect(incidentCommandReadsOnly(text)).toBe(true);
    for (const text of ['', 'Checkout is down', 'sev 1', 'update Recovering', 'resolve', 'followup Add alerts']) expect(incidentCommandReadsOnly(text)).toBe(false);
    for (const text of ['', 'show', 'requests', 'subscriptions', 'help']) expect(sprintCommandReadsOnly(text)).toBe(true);
    for (const text of ['add Export to CSV', 'start S1 2026-12-07 2026-12-20', 'post', 'link R-1 F-1']) expect(sprintCommandReadsOnly(text)).toBe(false);
  });
});
