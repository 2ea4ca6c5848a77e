import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog';
import { activeFreeze, deployRefusal, mayCancel, mayVote, parseChangeCommand, sprintAt, sprintsBefore, votableServices, voteRefusal } from '../../src/changes/model';

describe('/change grammar', () => {
  it('reads a request with options anywhere', () => {
    expect(parseChangeCommand('payments Rotate signing keys type=standard env=Staging ref=v2.3.1 risk=low')).toEqual({
      kind: 'request',
      service: 'payments',
      title: 'Rotate signing keys',
      type: 'standard',
      risk: 'low',
      environment: 'staging',
      ref: 'v2.3.1',
    });
    expect(parseChangeCommand('payments Rotate keys')).toMatchObject({ type: 'normal' });
  });

  it('opens the form without a title, lists, cancels and explains mistakes', () => {
    expect(parseChangeCommand('')).toEqual({ kind: 'open_modal' });
    expect(parseChangeCommand('payments')).toEqual({ kind: 'open_modal', service: 'payments' });
    expect(parseChangeCommand('list')).toEqual({ kind: 'list' });
    expect(parseChangeCommand('list Payments')).toEqual({ kind: 'list', service: 'payments' });
    expect(parseChangeCommand('list payments now')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('`/change list` takes at most a service') });
    expect(parseChangeCommand('cancel CHG-42')).toEqual({ kind: 'cancel', number: 42 });
    expect(parseChangeCommand('cancel')).toMatchObject({ kind: 'invalid' });
    expect(parseChangeCommand('payments Fix type=urgent')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('`type=urgent` is not a change type') });
    expect(parseChangeCommand('payments Fix risk=extreme')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('use low, medium or high') });
  });
});

describe('freeze windows', () => {
  const catalog = parseCatalog(`
services:
  payments: {}
  search: {}
freeze:
  - { from: "2026-12-20", to: "2027-01-03", services: ["*"], reason: Year-end }
  - { from: "2026-11-25T18:00:00Z", to: "2026-11-25T20:00:00Z", services: [search] }
`);

  it('covers whole days, inclusive, in the configured time zone', () => {
    expect(activeFreeze(catalog, 'payments', new Date('2026-12-19T22:59:59Z'), 'Europe/Paris')).toBeUndefined();
    expect(activeFreeze(catalog, 'payments', new Date('2026-12-19T23:00:00Z'), 'Europe/Paris')?.reason).toBe('Year-end');
    expect(activeFreeze(catalog, 'payments', new Date('2027-01-03T22:59:59Z'), 'Europe/Paris')).toBeDefined();
    expect(activeFreeze(catalog, 'payments', new Date('2027-01-03T23:00:00Z'), 'Europe/Paris')).toBeUndefined();
  });

  it('honours exact date-times and the services it names', () => {
    expect(activeFreeze(catalog, 'search', new Date('2026-11-25T19:00:00Z'), 'UTC')).toBeDefined();
    expect(activeFreeze(catalog, 'payments', new Date('2026-11-25T19:00:00Z'), 'UTC')).toBeUndefined();
  });
});

describe('sprints for change budgets', () => {
  const cadence = { length_days: 14, starts_on: '2026-01-05' };

  it('counts fixed-length sprints from the anchor, in local days', () => {
    expect(sprintAt(cadence, new Date('2026-11-23T09:00:00Z'), 'UTC').key).toBe('2026-11-23');
    expect(sprintAt(cadence, new Date('2026-11-22T23:59:59Z'), 'UTC').key).toBe('2026-11-09');
    expect(sprintAt(cadence, new Date('2026-12-06T23:30:00Z'), 'UTC').key).toBe('2026-11-23');
    expect(sprintAt(cadence, new Date('2026-12-06T23:30:00Z'), 'Europe/Paris').key).toBe('2026-12-07');
    expect(sprintAt(cadence, new Date('2025-12-31T12:00:00Z'), 'UTC').key).toBe('2025-12-22');
  });

  it('lists earlier sprints newest first', () => {
    const current = sprintAt(cadence, new Date('2026-11-23T09:00:00Z'), 'UTC');
    expect(sprintsBefore(cadence, current, 3, 'UTC').map((sprint) => sprint.key)).toEqual(['2026-11-09', '2026-10-26', '2026-10-12']);
    expect(current.endsAt.toISOString()).toBe('2026-12-07T00:00:00.000Z');
  });
});

describe('deploy refusals', () => {
  it('lets only approved (or already deployed) changes through', () => {
    expect(deployRefusal('approved')).toBeUndefined();
    expect(deployRefusal('deployed')).toBeUndefined();
    expect(deployRefusal('rejected')).toBe('was rejected');
    expect(deployRefusal('pending')).toBe('is still waiting for approval');
  });
});

describe('who may vote and cancel', () => {
  const catalog = parseCatalog(`
services:
  payments:
    approvers: { groups: [leads], users: [U0ZED] }
  search: {}
groups:
  leads: [U0ANN, U0BEN]
`);
  const change = { service: 'payments', number: 7, requestedBy: 'U0ANN' };

  it('lets approvers vote, never on their own change, and says which half of the rule refused', () => {
    expect(mayVote(catalog, change, 'U0BEN')).toBe(true);
    expect(mayVote(catalog, change, 'U0ZED')).toBe(true);
    expect(voteRefusal(catalog, change, 'U0BEN')).toBeUndefined();
    expect(mayVote(catalog, change, 'U0ANN')).toBe(false);
    expect(voteRefusal(catalog, change, 'U0ANN')).toMatchObject({ code: 'own_change', message: 'You requested CHG-7, so someone else has to approve it (separation of duties).' });
    expect(mayVote(catalog, change, 'U0EVE')).toBe(false);
    expect(voteRefusal(catalog, change, 'U0EVE')).toMatchObject({ code: 'not_an_approver', message: 'Only *leads*, <@U0ZED> may vote on payments changes.' });
    expect(voteRefusal(catalog, { ...change, service: 'gone' }, 'U0BEN')).toMatchObject({ message: 'Only the service’s approvers may vote on gone changes.' });
    expect(votableServices(catalog, 'U0BEN')).toEqual(['payments']);
    expect(votableServices(catalog, 'U0EVE')).toEqual([]);
  });

  it('lets the requester or an approver cancel, nobody else', () => {
    expect(mayCancel(catalog, { ...change, requestedBy: 'U0DEV' }, 'U0DEV')).toBe(true);
    expect(mayCancel(catalog, change, 'U0BEN')).toBe(true);
    expect(mayCancel(catalog, change, 'U0EVE')).toBe(false);
  });
});
