import { WebClient } from '@slack/web-api';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes } from '../../src/db/schema';
import { DomainEvents } from '../../src/events';
import { linkCause } from '../../src/incidents/cause';
import { declareIncident } from '../../src/incidents/declare';
import type { IncidentDeps } from '../../src/incidents/deps';
import { createLogger } from '../../src/log';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    approvers: { groups: [leads], quorum: 1 }
    channels: { approvals: C0APPROVALS, incidents: C0INCIDENTS }
groups:
  leads: [U0ANN]
`;

describe('the cause of an incident', () => {
  let t: Harness;
  let changeId: string;
  /** The status of the cause as every other connection saw it when its change event arrived. */
  let seenOnEvent: Array<Promise<string | undefined>>;
  let deps: IncidentDeps;

  beforeEach(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev' }) });
    const pipeline = await t.token('changes:write');
    const requested = await t.api('POST', '/changes', {
      token: pipeline,
      body: { service: 'payments', title: 'Deploy v4.0.0', type: 'normal', environment: 'production', ref: 'v4.0.0', requested_by: 'U0DEV' },
    });
    await t.idle();
    const approval = t.slack.messagesIn('C0APPROVALS').find((message) => message.text.startsWith(`${requested.body.key} `))!;
    await t.simulator.click('U0ANN', { message: approval }, 'change.approve');
    await t.idle();
    changeId = requested.body.id;

    // The use cases on Tandem's own database and workers, with domain events this test hears.
    const events = new DomainEvents();
    seenOnEvent = [];
    events.subscribe((event) => {
      if (event.kind !== 'change') return;
      seenOnEvent.push(
        t.database.handle.db
          .select({ status: changes.status })
          .from(changes)
          .where(eq(changes.id, event.change.id))
          .then(([row]) => row?.status),
      );
    });
    const client = new WebClient(t.slack.botToken, { slackApiUrl: t.slack.apiUrl });
    deps = {
      db: t.database.handle.db,
      background: t.tandem.background,
      events,
      clock: t.clock,
      catalog: t.catalog,
      slack: client,
      outbox: t.tandem.outbox,
      durableSlack: client,
      shutdown: new AbortController().signal,
      logger: createLogger('silent'),
      timeZone: 'UTC',
      botUserId: t.slack.botUserId,
    };
  });
  afterEach(() => t.stop());

  it('announces the failed change when linking it only once that is committed', async () => {
    const { incident } = await declareIncident(deps, { title: 'Checkout errors after v4', service: 'payments', actor: 'U0ANN' });
    await linkCause(deps, incident.id, changeId, 'U0ANN');
    expect(await Promise.all(seenOnEvent)).toEqual(['failed']);
  });

  it('announces the failed change of an incident declared with its cause only once that is committed', async () => {
    await declareIncident(deps, { title: 'Checkout errors after v4', service: 'payments', actor: 'api:alerts', causedByChangeId: changeId });
    expect(await Promise.all(seenOnEvent)).toEqual(['failed']);
  });

  it('announces nothing when the link is refused', async () => {
    const { incident } = await declareIncident(deps, { title: 'Checkout errors after v4', service: 'payments', actor: 'U0ANN', causedByChangeId: changeId });
    seenOnEvent = [];
    await expect(linkCause(deps, incident.id, changeId, 'U0ANN')).rejects.toMatchObject({ code: 'unchanged' });
    expect(seenOnEvent).toEqual([]);
  });
});
