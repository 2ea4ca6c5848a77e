import { describe, expect, it } from 'vitest';
import { isServiceTeam, onAnyServiceTeam, parseCatalog } from '../../src/catalog';
import { mayManageSubscriptions, refusals } from '../../src/sprints/model';
import { requireAnyServiceTeam, requireServiceTeam, requireSubscriptionManager } from '../../src/sprints/permissions';

const catalog = parseCatalog(`
groups:
  payments-leads: [U0LEAD]
services:
  payments:
    owners: [U0OWNER]
    oncall: [U0ONCALL]
    approvers:
      groups: [payments-leads]
      users: [U0APPROVER]
  search:
    oncall: [U0SEARCH]
`);

describe('who runs a service', () => {
  it('is its owners, on-call and approvers, by group or by name', () => {
    for (const user of ['U0OWNER', 'U0ONCALL', 'U0LEAD', 'U0APPROVER']) expect(isServiceTeam(catalog, 'payments', user)).toBe(true);
    expect(isServiceTeam(catalog, 'payments', 'U0SEARCH')).toBe(false);
    expect(isServiceTeam(catalog, 'payments', 'U0CUSTOMER')).toBe(false);
  });

  it('is someone on any service’s team, for actions before the service is known', () => {
    expect(onAnyServiceTeam(catalog, 'U0SEARCH')).toBe(true);
    expect(onAnyServiceTeam(catalog, 'U0CUSTOMER')).toBe(false);
  });

  it('names the services there are when asked about one the catalog lacks', () => {
    expect(() => isServiceTeam(catalog, 'billing', 'U0OWNER')).toThrow(/payments, search/);
  });

  it('leaves digest subscriptions to owners and approvers, not on-call', () => {
    expect(mayManageSubscriptions(catalog, 'payments', 'U0OWNER')).toBe(true);
    expect(mayManageSubscriptions(catalog, 'payments', 'U0LEAD')).toBe(true);
    expect(mayManageSubscriptions(catalog, 'payments', 'U0ONCALL')).toBe(false);
  });
});

describe('sprint refusals', () => {
  it('say the one wording of each rule and who to ask', () => {
    expect(() => requireServiceTeam(catalog, 'payments', 'U0CUSTOMER')).toThrow(
      expect.objectContaining({ code: 'not_on_service_team', message: `${refusals.notOnServiceTeam('payments')} Ask <@U0OWNER>.` }),
    );
    expect(() => requireSubscriptionManager(catalog, 'payments', 'U0ONCALL')).toThrow(
      expect.objectContaining({ code: 'not_owner_or_approver', message: `${refusals.notSubscriptionManager('payments')} Ask <@U0OWNER>.` }),
    );
    expect(() => requireAnyServiceTeam(catalog, 'U0CUSTOMER')).toThrow(
      expect.objectContaining({ code: 'not_on_service_team', message: refusals.notOnAnyServiceTeam }),
    );
  });

  it('point at the catalog when a service has no owners to ask', () => {
    expect(() => requireServiceTeam(catalog, 'search', 'U0CUSTOMER')).toThrow(/no owners for it yet/);
  });

  it('let the team through', () => {
    expect(() => requireServiceTeam(catalog, 'payments', 'U0ONCALL')).not.toThrow();
    expect(() => requireSubscriptionManager(catalog, 'payments', 'U0APPROVER')).not.toThrow();
    expect(() => requireAnyServiceTeam(catalog, 'U0SEARCH')).not.toThrow();
  });
});
