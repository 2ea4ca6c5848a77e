import { describe, expect, it } from 'vitest';
import { parseFeatureStatus, parseIsoDate, parseSprintCommand, sprintKeyFor, sprintProgress } from '../../src/sprints/model';

describe('the /sprint grammar', () => {
  it('reads each subcommand, with service= anywhere', () => {
    expect(parseSprintCommand('')).toEqual({ kind: 'show' });
    expect(parseSprintCommand('show service=Payments')).toEqual({ kind: 'show', service: 'payments' });
    expect(parseSprintCommand('start Sprint 42 (Autumn) 2026-11-23 2026-12-04')).toEqual({
      kind: 'start',
      name: 'Sprint 42 (Autumn)',
      startsOn: '2026-11-23',
      endsOn: '2026-12-04',
    });
    expect(parseSprintCommand('add internal Upgrade Postgres service=search')).toEqual({
      kind: 'add',
      title: 'Upgrade Postgres',
      customerVisible: false,
      service: 'search',
    });
    expect(parseSprintCommand('add Internal tooling for support')).toMatchObject({ title: 'tooling for support', customerVisible: false });
    expect(parseSprintCommand('status PAY-12 In_UAT')).toEqual({ kind: 'status', feature: 'PAY-12', status: 'in-uat' });
    expect(parseSprintCommand('link r-4 F-2')).toEqual({ kind: 'link', request: 4, feature: 'F-2' });
    expect(parseSprintCommand('post')).toEqual({ kind: 'post' });
    expect(parseSprintCommand('requests')).toEqual({ kind: 'requests' });
    expect(parseSprintCommand('subscriptions')).toEqual({ kind: 'subscriptions' });
    expect(parseSprintCommand('unsubscribe <#C0ACME|acme>')).toEqual({ kind: 'unsubscribe', channel: 'C0ACME' });
  });

  it('reads a subscription’s channel, schedule and time zone', () => {
    expect(parseSprintCommand('subscribe <#C0ACME|acme>')).toEqual({ kind: 'subscribe', channel: 'C0ACME' });
    expect(parseSprintCommand('subscribe <#C0ACME> Europe/Berlin')).toEqual({ kind: 'subscribe', channel: 'C0ACME', timeZone: 'Europe/Berlin' });
    expect(parseSprintCommand('subscribe <#C0ACME|acme> 0 9 * * MON-FRI')).toEqual({ kind: 'subscribe', channel: 'C0ACME', cron: '0 9 * * MON-FRI' });
    expect(parseSprintCommand('subscribe <#C0ACME|acme> "30 0 8 * * 1" America/New_York service=payments')).toEqual({
      kind: 'subscribe',
      channel: 'C0ACME',
      cron: '30 0 8 * * 1',
      timeZone: 'America/New_York',
      service: 'payments',
    });
    // A misspelt zone is still read as the zone, so the error can say so.
    expect(parseSprintCommand('subscribe <#C0ACME|acme> 0 9 * * 1 Europe/Berln')).toMatchObject({ cron: '0 9 * * 1', timeZone: 'Europe/Berln' });
  });

  it('says what would work when the text does not fit', () => {
    expect(parseSprintCommand('start Sprint 42 2026-11-23')).toEqual({ kind: 'invalid', message: expect.stringContaining('needs two dates after the name') });
    expect(parseSprintCommand('start 2026-11-23 2026-12-04')).toEqual({ kind: 'invalid', message: expect.stringContaining('takes a name, a start date and an end date') });
    expect(parseSprintCommand('start Sprint 2026-02-30 2026-03-04')).toEqual({ kind: 'invalid', message: expect.stringContaining('`2026-02-30` is not a date') });
    expect(parseSprintCommand('add internal')).toEqual({ kind: 'invalid', message: expect.stringContaining('needs the feature’s title') });
    expect(parseSprintCommand(`add ${'x'.repeat(201)}`)).toEqual({ kind: 'invalid', message: 'That title is 201 characters; keep it under 200.' });
    expect(parseSprintCommand('status F-1')).toEqual({ kind: 'invalid', message: expect.stringContaining('`/sprint status F-3 in-uat`') });
    expect(parseSprintCommand('link 4')).toEqual({ kind: 'invalid', message: expect.stringContaining('`/sprint link R-4 F-2`') });
    expect(parseSprintCommand('subscribe #acme')).toEqual({ kind: 'invalid', message: expect.stringContaining('a channel picked from Slack’s suggestions') });
    expect(parseSprintCommand('unsubscribe')).toEqual({ kind: 'invalid', message: expect.stringContaining('`/sprint unsubscribe #acme-customers`') });
    expect(parseSprintCommand('show everything')).toEqual({ kind: 'invalid', message: '`/sprint show` takes no text other than `service=<name>`.' });
  });
});

describe('sprint rules', () => {
  it('reads statuses, dates and keys', () => {
    expect(parseFeatureStatus('IN-DEV')).toBe('in-dev');
    expect(parseFeatureStatus('shipped')).toBeUndefined();
    expect(parseIsoDate('2028-02-29')).toBe('2028-02-29');
    expect(parseIsoDate('2026-02-29')).toBeUndefined();
    expect(parseIsoDate('23/11/2026')).toBeUndefined();
    expect(sprintKeyFor('payments', 'Sprint 42 — Größe')).toBe('payments-sprint-42-grosse');
  });

  it('counts progress over the features still in the sprint', () => {
    expect(sprintProgress([])).toEqual({ done: 0, committed: 0, percent: 0 });
    expect(sprintProgress([{ status: 'done' }, { status: 'dropped' }, { status: 'planned' }, { status: 'in-dev' }])).toEqual({ done: 1, committed: 3, percent: 33 });
  });
});
