import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { approversOf, CatalogError, parseCatalog, respondersOf } from '../src/catalog';

const contractExample = `
services:
  payments:
    owners: [U0123ABCD]            # Slack user IDs
    approvers: { groups: [fintech-leads], quorum: 2 }
    channels: { incidents: C0INCIDENTS, approvals: C0APPROVALS, customers: [C0ACME] }
    default_severity: 2
    github: { repositories: [acme/payments-api] }   # gated by Tandem; deployments recorded
groups:
  fintech-leads: [U0AAAA, U0BBBB, U0CCCC]
freeze:
  - { from: "2026-12-20", to: "2027-01-03", services: ["*"] }
incidents:                          # all optional
  timeline_reaction: pushpin
  roles: [comms, scribe]
  update_every_minutes: { 1: 30, 2: 60, 3: 240 }
  archive_after_days: 7
cab: { channel: C0CAB, cron: "0 10 * * 2" }
`;

const failure = (text: string) => {
  try {
    parseCatalog(text, 'tandem.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as Error).message;
  }
  throw new Error('expected a catalog error');
};

describe('service catalog', () => {
  it('reads the contract example', () => {
    const catalog = parseCatalog(contractExample);
    const payments = catalog.services.payments!;
    expect(payments.approvers.quorum).toBe(2);
    expect([...approversOf(catalog, payments)]).toEqual(['U0AAAA', 'U0BBBB', 'U0CCCC']);
    expect(respondersOf(payments)).toEqual(['U0123ABCD']);
    expect(catalog.freeze[0]).toMatchObject({ from: '2026-12-20', to: '2027-01-03', services: ['*'] });
  });

  it('reads the example catalog shipped with Tandem', () => {
    const catalog = parseCatalog(readFileSync('tandem.example.yaml', 'utf8'), 'tandem.example.yaml');
    expect(Object.keys(catalog.services).length).toBeGreaterThan(0);
  });

  it('treats unknown keys as errors and names the path', () => {
    expect(failure('services:\n  payments:\n    owner: [U0123ABCD]\n')).toBe('tandem.yaml: services.payments: Unrecognized key: "owner"');
  });

  it('explains malformed values', () => {
    expect(failure('services:\n  payments:\n    owners: [alice]\n')).toBe(
      'tandem.yaml: services.payments.owners.0: must be a Slack user ID such as U0123ABCD (it is "alice")',
    );
    expect(failure('services:\n  payments:\n    default_severity: 7\n')).toContain(
      'services.payments.default_severity: must be a severity from 1 (highest) to 4',
    );
    expect(failure('services:\n  Payments: {}\n')).toContain('services.Payments');
    expect(failure('freeze:\n  - { from: "2027-01-05", to: "2027-01-01" }\n')).toBe('tandem.yaml: freeze.0.to: from must not be after to');
  });

  it('takes only real calendar dates, and names the file, path and value of any other', () => {
    expect(failure('freeze:\n  - { from: "2026-02-30", to: "2026-03-05" }\n')).toBe(
      'tandem.yaml: freeze.0.from: must be a real calendar date (YYYY-MM-DD, such as 2026-11-23) or an ISO 8601 date-time (2026-11-23T09:00:00Z) (it is "2026-02-30")',
    );
    expect(failure('freeze:\n  - { from: "2026-12-20", to: 2026-13-45 }\n')).toContain('tandem.yaml: freeze.0.to: must be a real calendar date');
    expect(failure('freeze:\n  - { from: "2026-12-20T25:00:00Z", to: "2027-01-03" }\n')).toContain('freeze.0.from: must be a real calendar date');
    expect(failure('freeze:\n  - { from: "0000-01-01", to: "2027-01-03" }\n')).toBe(
      'tandem.yaml: freeze.0.from: must be a date between 1970-01-01 and 9999-12-31 (it is "0000-01-01")',
    );
    expect(failure('sprints: { starts_on: "2026-02-30" }\n')).toBe(
      'tandem.yaml: sprints.starts_on: must be a real calendar date written YYYY-MM-DD, such as 2026-11-23 (it is "2026-02-30")',
    );
    expect(failure('sprints: { starts_on: "2026-13-45" }\n')).toContain('sprints.starts_on: must be a real calendar date');
    const leap = parseCatalog('freeze:\n  - { from: "2028-02-29", to: "2028-03-01T12:00:00+01:00" }\nsprints: { starts_on: "2028-02-28" }\n');
    expect(leap.freeze[0]).toMatchObject({ from: '2028-02-29', to: '2028-03-01T12:00:00+01:00' });
    expect(leap.sprints.starts_on).toBe('2028-02-28');
  });

  it('checks references between sections', () => {
    expect(failure('services:\n  payments:\n    approvers: { groups: [leads] }\n')).toBe(
      'tandem.yaml: services.payments.approvers.groups.0: names group "leads", which is not defined under groups',
    );
    expect(failure('freeze:\n  - { from: "2027-01-01", to: "2027-01-02", services: [billing] }\n')).toContain(
      'names service "billing", which is not defined under services',
    );
  });

  it('defaults and checks the sprint digest keys', () => {
    const payments = parseCatalog('services:\n  payments: {}\n').services.payments!;
    expect(payments.digest).toEqual({ cron: '0 9 * * 1' });
    expect(payments.request_followup_days).toBe(7);
    expect(failure('services:\n  payments:\n    digest: { cron: "0 9 * *" }\n')).toBe(
      'tandem.yaml: services.payments.digest.cron: A schedule has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; "0 9 * *" has 4. For example "0 9 * * 1" (Mondays at 09:00).',
    );
    expect(failure('services:\n  payments:\n    digest: { timezone: Europe/Berln }\n')).toBe(
      'tandem.yaml: services.payments.digest.timezone: must be an IANA time zone such as Europe/Berlin or UTC (it is "Europe/Berln")',
    );
    expect(failure('services:\n  payments:\n    request_followup_days: 0\n')).toBe(
      'tandem.yaml: services.payments.request_followup_days: must be a number of days from 1 to 365 (it is 0)',
    );
  });

  it('defaults the incident channel keys and keeps only the severities given', () => {
    expect(parseCatalog('{}').incidents).toEqual({
      timeline_reaction: 'pushpin',
      roles: ['comms', 'scribe'],
      update_every_minutes: { 1: 30, 2: 60, 3: 240 },
      archive_after_days: 7,
      message_retention_days: 30,
    });
    const custom = parseCatalog('incidents: { update_every_minutes: { 1: 10, 4: 600 }, roles: [comms], archive_after_days: 0 }');
    expect(custom.incidents.update_every_minutes).toEqual({ 1: 10, 4: 600 });
    expect(custom.incidents.roles).toEqual(['comms']);
    expect(custom.incidents.archive_after_days).toBe(0);
  });

  it('explains bad incident, CAB and GitHub keys', () => {
    expect(failure('incidents: { roles: [commander] }')).toBe('tandem.yaml: incidents.roles.0: commander is always a role; list only the others');
    expect(failure('incidents: { timeline_reaction: ":pushpin:" }')).toContain('must be an emoji name without colons');
    expect(failure('incidents: { archive_after_days: -1 }')).toContain('incidents.archive_after_days: must be at least 0');
    expect(failure('incidents: { update_every_minutes: { 1: 0 } }')).toContain('incidents.update_every_minutes.1: must be at least 1');
    expect(failure('cab: { channel: C0CAB, cron: "every tuesday" }')).toContain('cab.cron');
    expect(failure('services:\n  a: { github: { repositories: [payments-api] } }\n')).toContain('must be a GitHub repository as owner/name');
    expect(failure('services:\n  a: { github: { repositories: [acme/x] } }\n  b: { github: { repositories: [ACME/X] } }\n')).toBe(
      'tandem.yaml: services.b.github.repositories.0: ACME/X is already listed under service "a"; a repository belongs to one service',
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(failure('services:\n  payments: [\n')).toMatch(/^tandem\.yaml:\d+:\d+: not valid YAML/);
  });
});
