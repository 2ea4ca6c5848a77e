import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeBudgets, changes } from '../../src/db/schema';
import { TestClock } from '../support/clock';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  search:
    approvers: { users: [U0CAROL] }
    policy:
      budget: { initial: 4, min: 2, max: 8, step: 2 }
      success_threshold: 0.5
      lookback_sprints: 2
`;

/** Finished changes of earlier sprints: what the policy judges a service by. */
function history(sprint: string, succeeded: number, failed: number) {
  const at = new Date(`${sprint}T12:00:00Z`);
  const base = {
    service: 'search',
    type: 'normal' as const,
    risk: 'medium' as const,
    environment: 'production',
    requestedBy: 'U0DEV',
    requestedAt: at,
    sprint,
    updatedAt: at,
  };
  return [
    ...Array.from({ length: succeeded }, (_, index) => ({ ...base, title: `ok ${sprint} ${index}`, status: 'deployed' as const, deployedAt: at })),
    ...Array.from({ length: failed }, (_, index) => ({ ...base, title: `bad ${sprint} ${index}`, status: 'failed' as const, failedAt: at })),
  ];
}

describe('change budgets across sprints', () => {
  let t: Harness;
  let pipeline: string;
  beforeAll(async () => {
    t = await startHarness({ catalog, clock: new TestClock('2026-11-10T09:00:00Z') });
    pipeline = await t.token('changes:write');
    await t.database.handle.db.insert(changes).values([...history('2026-10-26', 3, 1), ...history('2026-11-09', 4, 0)]);
  });
  afterAll(() => t.stop());

  const standardChange = async (title: string) => {
    const answer = await t.api('POST', '/changes', { token: pipeline, body: { service: 'search', title, type: 'standard', environment: 'production' } });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const budgets = () => t.database.handle.db.select().from(changeBudgets).orderBy(asc(changeBudgets.sprint));

  it('starts at the initial budget and approves while the success rate meets the threshold', async () => {
    const first = await standardChange('Rotate index shards');
    expect(first).toMatchObject({ status: 'approved', decision: { by: 'policy', policy: { rule: 'within_budget' } } });
    expect(first.decision.policy.figures).toMatchObject({ sprint: '2026-11-09', budget: 4, used: 0, remaining: 3, succeeded: 3, completed: 4, success_rate: 0.75 });
    expect(first.decision.policy.summary).toBe(
      "Approved by policy: change success rate 75% (3 of 4 over the last 2 sprints) meets the 50% threshold, and this is standard change 1 of 4 in this sprint's budget.",
    );
    expect(await budgets()).toMatchObject([{ sprint: '2026-11-09', budget: 4, reason: 'first budgeted sprint: the initial budget of 4' }]);
  });

  it('grows the next sprint’s budget when the success rate rose', async () => {
    t.clock.set('2026-11-24T09:00:00Z');
    const change = await standardChange('Tune ranking weights');
    expect(change.status).toBe('approved');
    expect((await budgets()).at(-1)).toMatchObject({
      sprint: '2026-11-23',
      budget: 6,
      previousBudget: 4,
      lastRate: 1,
      priorRate: 0.75,
      reason: 'success rate rose from 75% to 100%: budget 4 → 6',
    });
  });

  it('shrinks it when the rate fell, and sends changes over budget to approvers with the reason', async () => {
    await t.database.handle.db.insert(changes).values(history('2026-11-23', 1, 3));
    t.clock.set('2026-12-08T09:00:00Z');
    const approved = [];
    for (const title of ['a', 'b', 'c', 'd']) approved.push((await standardChange(`Reindex ${title}`)).status);
    expect(approved).toEqual(['approved', 'approved', 'approved', 'approved']);
    expect((await budgets()).at(-1)).toMatchObject({ sprint: '2026-12-07', budget: 4, reason: 'success rate fell from 100% to 25%: budget 6 → 4' });

    const over = await standardChange('Reindex e');
    expect(over).toMatchObject({ status: 'pending', decision: null, policy: { rule: 'budget_exhausted', outcome: 'needs_approval' } });
    await t.idle();
    const request = t.slack.messagesIn(t.slack.imWith('U0CAROL').id).at(-1)!;
    expect(JSON.stringify(request.blocks)).toContain("This sprint's change budget is used up (4 of 4), so this standard change needs an approver.");
  });

  it('never spends the same budget twice under concurrent requests', async () => {
    await t.database.handle.db.insert(changes).values(history('2026-12-07', 4, 0));
    t.clock.set('2026-12-22T09:00:00Z');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => standardChange(`Parallel ${index}`)));
    const [budget] = (await budgets()).filter((row) => row.sprint === '2026-12-21');
    expect(budget!.budget).toBe(6);
    expect(answers.filter((answer) => answer.status === 'approved')).toHaveLength(6);
  });
});

describe('change budgets follow the sprints a team records', () => {
  let t: Harness;
  let pipeline: string;
  beforeAll(async () => {
    t = await startHarness({ catalog, clock: new TestClock('2026-11-24T09:00:00Z') });
    pipeline = await t.token('changes:write', 'sprints:write');
    const sprint = (key: string, startsOn: string, endsOn: string) =>
      t.api('PUT', `/sprints/${key}`, { token: pipeline, body: { name: key, service: 'search', starts_on: startsOn, ends_on: endsOn, features: [] } });
    expect((await sprint('S-41', '2026-11-06', '2026-11-19')).status).toBe(200);
    expect((await sprint('S-42', '2026-11-20', '2026-12-03')).status).toBe(200);
    await t.database.handle.db.insert(changes).values(history('2026-11-06', 3, 0));
  });
  afterAll(() => t.stop());

  it('counts a change in the recorded sprint and judges it by the recorded sprint before', async () => {
    const answer = await t.api('POST', '/changes', {
      token: pipeline,
      body: { service: 'search', title: 'Tune synonyms', type: 'standard', environment: 'production' },
    });
    expect(answer.body).toMatchObject({ sprint: '2026-11-20', status: 'approved' });
    expect(answer.body.decision.policy.figures).toMatchObject({ sprint: '2026-11-20', succeeded: 3, completed: 3 });
    expect(answer.body.decision.policy.figures.sprints[0]).toBe('2026-11-06');
  });

  it('shows the budget of the recorded sprint in the delivery KPIs', async () => {
    const kpis = await t.api('GET', '/metrics/dora?service=search&from=2026-11-20&to=2026-11-24', { token: await t.token('read') });
    expect(kpis.status).toBe(200);
    expect(kpis.body.change_budget).toEqual([{ sprint: '2026-11-20', budget: 4, used: 1 }]);
  });

  it('fills the KPI budget sprints from the cadence only where no sprint is recorded', async () => {
    // The cadence (every 14 days from 2026-01-05) has sprints of 2026-10-26 and 2026-11-09;
    // the recorded sprint of 2026-11-06 replaces the latter.
    const budget = (sprint: string) => ({ service: 'search', sprint, budget: 2, reason: 'seeded', setAt: new Date(`${sprint}T09:00:00Z`) });
    await t.database.handle.db.insert(changeBudgets).values([budget('2026-10-26'), budget('2026-11-06'), budget('2026-11-09')]);
    const kpis = await t.api('GET', '/metrics/dora?service=search&from=2026-10-20&to=2026-11-24', { token: await t.token('read') });
    expect(kpis.body.change_budget.map((row: { sprint: string }) => row.sprint)).toEqual(['2026-10-26', '2026-11-06', '2026-11-20']);
  });
});
