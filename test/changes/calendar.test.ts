import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    approvers: { groups: [leads] }
    channels: { approvals: C0APPROVALS }
  search:
    approvers: { users: [U0ANN] }
groups:
  leads: [U0ANN, U0BEN]
freeze:
  - { from: "2026-12-20", to: "2027-01-03", services: ["*"], reason: Year-end freeze }
cab: { channel: C0CAB, cron: "0 10 * * 2", timezone: UTC }
`;

const [ann, dev] = ['U0ANN', 'U0DEV'];

describe('planned windows, conflicts, the calendar and the CAB agenda', () => {
  let t: Harness;
  let writer: string;
  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: dev, name: 'dev', tz: 'Europe/Berlin' });
        slack.addChannel({ id: 'C0DEVS', name: 'devs', members: [dev, ann] });
        slack.addChannel({ id: 'C0CAB', name: 'cab' });
      },
    });
    writer = await t.token('changes:write', 'incidents:write');
  });
  afterEach(() => t.stop());

  const db = () => t.database.handle.db;
  const request = async (body: Record<string, unknown>) =>
    t.api('POST', '/changes', { token: writer, body: { service: 'payments', type: 'normal', environment: 'production', ...body } });
  const planned = (title: string, start: string, end: string, extra: Record<string, unknown> = {}) =>
    request({ title, planned_start: start, planned_end: end, ...extra });
  const approvalOf = (key: string): FakeMessage => t.slack.messagesIn('C0APPROVALS').find((message) => message.text.startsWith(`${key} ·`))!;
  const get = async (key: string) => (await t.api('GET', `/changes/${key}`, { token: writer })).body;
  const command = async (text: string, user = dev) => {
    await t.simulator.command(user, 'C0DEVS', '/change', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)!;
  };

  it('lists overlapping changes as conflicts (touching windows do not conflict) and keeps them current when the other is cancelled or approved', async () => {
    expect((await planned('Resize ledger pool', '2026-11-25T14:00:00Z', '2026-11-25T16:00:00Z')).body.conflicts).toEqual([]);
    expect((await planned('Touching window', '2026-11-25T16:00:00Z', '2026-11-25T17:00:00Z')).body.conflicts).toEqual([]);
    const third = await planned('Overlapping both', '2026-11-25T15:00:00Z', '2026-11-25T16:30:00Z');
    expect(third.status).toBe(201);
    expect(third.body.conflicts.map((conflict: { key: string }) => conflict.key).sort()).toEqual(['CHG-1', 'CHG-2']);
    expect(third.body.conflicts[0]).toMatchObject({ kind: 'change', message: expect.stringContaining('(pending) is planned on payments at an overlapping time') });
    await t.idle();
    // The earlier requests' approval messages were refreshed with the newcomer.
    expect(JSON.stringify(approvalOf('CHG-1').blocks)).toContain('CHG-3 “Overlapping both” (pending)');
    expect((await get('CHG-2')).conflicts).toEqual([expect.objectContaining({ key: 'CHG-3' })]);

    // Cancelled: it leaves the others' conflicts, and their messages say so.
    await command('cancel CHG-3', ann);
    expect((await get('CHG-1')).conflicts).toEqual([]);
    expect(JSON.stringify(approvalOf('CHG-1').blocks)).not.toContain('CHG-3');

    // Approved: the other's message shows it as approved.
    await planned('Fourth', '2026-11-25T15:30:00Z', '2026-11-25T15:45:00Z');
    await t.idle();
    expect(JSON.stringify(approvalOf('CHG-4').blocks)).toContain('CHG-1 “Resize ledger pool” (pending)');
    await t.simulator.click(ann, { message: approvalOf('CHG-1') }, 'change.approve');
    await t.idle();
    expect((await get('CHG-1')).status).toBe('approved');
    expect(JSON.stringify(approvalOf('CHG-4').blocks)).toContain('CHG-1 “Resize ledger pool” (approved)');
    expect((await get('CHG-4')).conflicts).toEqual([expect.objectContaining({ key: 'CHG-1', message: expect.stringContaining('(approved)') })]);
  });

  it('sends a standard change with a conflict to its approvers, saying which conflict and why', async () => {
    const incident = await t.api('POST', '/incidents', { token: writer, body: { title: 'Checkout 500s', service: 'payments', severity: 1 } });
    expect(incident.status).toBe(201);
    const standard = await request({ title: 'Bump dependencies', type: 'standard' });
    expect(standard.body).toMatchObject({
      status: 'pending',
      conflicts: [{ kind: 'incident', key: 'INC-1', message: 'INC-1 (SEV1) “Checkout 500s” is open on payments' }],
      policy: { rule: 'conflict', outcome: 'needs_approval', summary: 'Sent to its approvers instead of the policy, because of a conflict: INC-1 (SEV1) “Checkout 500s” is open on payments.' },
    });
    const reply = await command('payments Rotate keys type=standard');
    expect(reply.text).toContain('Requested *CHG-2* Rotate keys: waiting for approval in <#C0APPROVALS>.\n🧮 Sent to its approvers instead of the policy');
    await t.idle();
    expect(JSON.stringify(approvalOf('CHG-2').blocks)).toContain('⚠️ *Conflicts*');
    // Without the incident the policy decides again.
    expect((await request({ title: 'Other service', type: 'standard', service: 'search' })).body.policy.rule).not.toBe('conflict');
  });

  it('rejects a normal change planned in a freeze, and shows the freeze on an emergency change without stopping it', async () => {
    const normal = await planned('During the freeze', '2026-12-21T10:00:00Z', '2026-12-21T11:00:00Z');
    expect(normal.body).toMatchObject({
      status: 'rejected',
      policy: { rule: 'freeze_window' },
      conflicts: [{ kind: 'freeze', message: 'the planned window overlaps the freeze from 2026-12-20 to 2027-01-03 (Year-end freeze)' }],
    });
    // Ending as the freeze begins does not overlap it.
    expect((await planned('Before the freeze', '2026-12-19T22:00:00Z', '2026-12-20T00:00:00Z')).body).toMatchObject({ status: 'pending', conflicts: [] });
    const emergency = await planned('Hotfix', '2026-12-21T10:00:00Z', '2026-12-21T11:00:00Z', { type: 'emergency', justification: 'Card payments fail' });
    expect(emergency.body).toMatchObject({
      status: 'approved',
      conflicts: [{ kind: 'freeze', message: expect.stringContaining('shown, as an emergency change may go ahead') }],
    });
  });

  it('refuses bad windows with details, and reads window= in the requester’s Slack time zone', async () => {
    const endFirst = await planned('Backwards', '2026-11-25T16:00:00Z', '2026-11-25T14:00:00Z');
    expect(endFirst.status).toBe(422);
    expect(endFirst.body.error.details).toEqual([{ field: 'planned_end', message: 'must be after the planned start' }]);
    const onlyStart = await request({ title: 'Half', planned_start: '2026-11-25T16:00:00Z' });
    expect(onlyStart.status).toBe(422);
    expect(onlyStart.body.error.details).toEqual([expect.objectContaining({ field: 'planned_end' })]);
    const onlyEnd = await request({ title: 'Half', planned_end: '2026-11-25T16:00:00Z' });
    expect(onlyEnd.body.error.details).toEqual([expect.objectContaining({ field: 'planned_start' })]);
    const garbage = await request({ title: 'Garbage', planned_start: 'next tuesday', planned_end: '2026-11-25T16:00:00Z' });
    expect(garbage.status).toBe(422);
    expect(garbage.body.error.details).toEqual([expect.objectContaining({ field: 'planned_start', message: expect.stringContaining('ISO 8601') })]);
    expect(await db().select().from(changes)).toHaveLength(0);

    const reply = await command('payments Resize pool window=2026-11-25T14:00/2026-11-25T15:00');
    expect(reply.text).toContain('Requested *CHG-1* Resize pool');
    const [row] = await db().select().from(changes).where(eq(changes.number, 1));
    expect(row).toMatchObject({ plannedStart: new Date('2026-11-25T13:00:00Z'), plannedEnd: new Date('2026-11-25T14:00:00Z') });
    expect((await command('payments Resize pool window=2026-11-25T15:00/2026-11-25T14:00')).text).toContain('the end must be after the start');
    expect((await command('payments Resize pool window=soon')).text).toContain('needs a start and an end');
    expect(await db().select().from(changes)).toHaveLength(1);
  });

  it('shows the calendar within Block Kit limits with 500 planned changes, on the command and the Home', async () => {
    const rows = Array.from({ length: 500 }, (_, index) => ({
      service: index % 2 ? 'payments' : 'search',
      title: `Planned change ${index}`,
      type: 'normal' as const,
      risk: 'medium' as const,
      environment: 'production',
      requestedBy: dev,
      requestedAt: new Date('2026-11-23T08:00:00Z'),
      sprint: '2026-11-23',
      updatedAt: new Date('2026-11-23T08:00:00Z'),
      // 480 on the 24th, the rest spread over the next days.
      plannedStart: new Date(index < 480 ? Date.parse('2026-11-24T00:00:00Z') + (index % 20) * 3_600_000 : Date.parse('2026-11-25T10:00:00Z') + (index % 10) * 86_400_000),
      plannedEnd: new Date(index < 480 ? Date.parse('2026-11-24T01:30:00Z') + (index % 20) * 3_600_000 : Date.parse('2026-11-25T11:00:00Z') + (index % 10) * 86_400_000),
    }));
    await db().insert(changes).values(rows);
    const reply = await command('calendar');
    const blocks = reply.blocks as unknown[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    const text = JSON.stringify(blocks);
    expect(text).toContain('…and 472 more');
    // Days are the viewer's: 2026-11-24 begins at 23:00 UTC the day before in Berlin.
    expect(text).toContain('*<!date^1795474800^{date_short_pretty}|2026-11-23 23:00 UTC>*');
    expect(text).not.toContain('Freeze');
    expect(text).toContain('<!date^');
    const paymentsOnly = JSON.stringify((await command('calendar payments')).blocks);
    expect(paymentsOnly).toContain('…and 232 more');
    expect(paymentsOnly).not.toContain('search');
    expect((await command('calendar nosuch')).text).toContain('There is no service "nosuch"');

    await t.simulator.event({ type: 'app_home_opened', user: ann, channel: 'D0HOME', tab: 'home' });
    await t.idle();
    const home = t.slack.homes.get(ann) as { blocks: unknown[] };
    expect(home.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(home.blocks)).toContain('Change calendar');
    expect(JSON.stringify(home.blocks)).toContain('…and 472 more');

    // Ten days later the freeze is within the fortnight.
    t.clock.set('2026-12-15T09:00:00Z');
    expect(JSON.stringify((await command('calendar')).blocks)).toContain('🧊 Freeze 2026-12-20 → 2027-01-03 (Year-end freeze)');
  });

  it('lists changes by status, service and planned window, page by page', async () => {
    await planned('A', '2026-11-25T14:00:00Z', '2026-11-25T16:00:00Z');
    t.clock.advance(1000);
    await planned('B', '2026-11-26T14:00:00Z', '2026-11-26T16:00:00Z', { service: 'search' });
    t.clock.advance(1000);
    await request({ title: 'C, no window' });
    t.clock.advance(1000);
    await planned('D', '2026-12-21T10:00:00Z', '2026-12-21T11:00:00Z');
    const list = async (query: string) => t.api('GET', `/changes${query}`, { token: writer });
    const titles = async (query: string) => (await list(query)).body.items.map((item: { title: string }) => item.title);
    expect(await titles('')).toEqual(['D', 'C, no window', 'B', 'A']);
    expect(await titles('?status=rejected')).toEqual(['D']);
    expect(await titles('?service=search')).toEqual(['B']);
    // Overlap with [from, to): A ends at 16:00, exactly where this range begins.
    expect(await titles('?from=2026-11-25T16:00:00Z&to=2026-11-27T00:00:00Z')).toEqual(['B']);
    expect(await titles('?from=2026-11-25T15:00:00Z&to=2026-11-26T14:00:00Z')).toEqual(['A']);
    const first = await list('?limit=3');
    expect(first.body.items).toHaveLength(3);
    const second = await list(`?limit=3&cursor=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ items: [expect.objectContaining({ title: 'A' })], next_cursor: null });
    for (const bad of ['?status=open', '?from=yesterday', '?cursor=nonsense', '?service=nosuch', '?from=2026-11-26T00:00:00Z&to=2026-11-25T00:00:00Z', '?limit=0']) {
      const answer = await list(bad);
      expect(answer.status, bad).toBe(422);
    }
  });
});

describe('the CAB agenda', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const harness of harnesses.reverse()) await harness.stop();
    harnesses.length = 0;
  });

  it('is posted once per period with two instances and after a restart, with pending normal changes oldest first and reviews', async () => {
    const first = await startHarness({ catalog, workspace: (slack) => slack.addChannel({ id: 'C0CAB', name: 'cab' }) });
    harnesses.push(first);
    // A second instance needs PostgreSQL; on PGlite the claim is covered by test/jobs/periods.test.ts.
    if (!first.database.url) return;
    const second = await startHarness({ alongside: first });
    harnesses.push(second);
    await first.idle();
    const agendas = () => first.slack.messagesIn('C0CAB');
    const atStart = agendas().length;
    expect(atStart).toBe(1);

    const token = await first.token('changes:write');
    for (const title of ['Older', 'Newer']) {
      await first.api('POST', '/changes', { token, body: { service: 'payments', title, type: 'normal', environment: 'production' } });
      first.clock.advance(60_000);
    }
    await first.api('POST', '/changes', { token, body: { service: 'payments', title: 'Hotfix', type: 'emergency', environment: 'production', justification: 'Cards fail' } });

    first.clock.set('2026-11-24T10:00:30Z');
    await Promise.all([first.tandem.scheduler.run('cab-agenda'), second.tandem.scheduler.run('cab-agenda'), first.tandem.scheduler.run('cab-agenda')]);
    await first.idle();
    await second.idle();
    expect(agendas()).toHaveLength(atStart + 1);
    const agenda = agendas().at(-1)!;
    expect(agenda.text).toBe('CAB agenda: 2 pending normal changes, 1 emergency change awaiting review');
    const shown = JSON.stringify(agenda.blocks);
    expect(shown.indexOf('Older')).toBeLessThan(shown.indexOf('Newer'));
    expect(shown).toContain('change.approve');
    expect(shown).toContain('Hotfix');
    expect((agenda.blocks as unknown[]).length).toBeLessThanOrEqual(50);

    await first.restart();
    await first.idle();
    await first.tandem.scheduler.run('cab-agenda');
    await first.idle();
    expect(agendas()).toHaveLength(atStart + 1);
  });
});
