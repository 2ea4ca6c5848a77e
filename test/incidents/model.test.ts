import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitDeclaration, fitDedupKey, incidentChannelName, parseIncidentCommand, parseSeverity, readSeverity, slugify } from '../../src/incidents/model';

const declaredAt = new Date('2026-11-23T23:30:00Z');

describe('incident channel names', () => {
  it('follows inc-<YYYYMMDD>-<number>-<slug> in the configured time zone', () => {
    expect(incidentChannelName({ number: 17, title: 'Checkout returns 500s', declaredAt }, 'UTC')).toBe(
      'inc-20261123-17-checkout-returns-500s',
    );
    expect(incidentChannelName({ number: 17, title: 'x', declaredAt }, 'Asia/Tokyo')).toBe('inc-20261124-17-x');
  });

  it('folds accents, drops emoji and punctuation', () => {
    expect(slugify('🔥 Zahlungsausfall: Straße & Café — ÉCHEC!! 🚨')).toBe('zahlungsausfall-strasse-cafe-echec');
    expect(incidentChannelName({ number: 3, title: '🔥🔥🔥', declaredAt }, 'UTC')).toBe('inc-20261123-3');
  });

  it('shortens long titles to 80 characters without a trailing hyphen, keeping the suffix', () => {
    const title = 'the payment service is down for every customer in every region and nobody knows why yet';
    const first = incidentChannelName({ number: 12345, title, declaredAt }, 'UTC');
    const third = incidentChannelName({ number: 12345, title, declaredAt }, 'UTC', 3);
    expect(first.length).toBeLessThanOrEqual(80);
    expect(third.length).toBeLessThanOrEqual(80);
    expect(third.endsWith('-3')).toBe(true);
    expect(first.endsWith('-')).toBe(false);
  });

  it('is always a valid, distinct Slack channel name (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 10 }), (title, number, attempt) => {
        const name = incidentChannelName({ number, title, declaredAt }, 'UTC', attempt);
        expect(name).toMatch(/^[a-z0-9_-]{1,80}$/);
        expect(name.startsWith(`inc-20261123-${number}`)).toBe(true);
        if (attempt > 1) expect(name).not.toBe(incidentChannelName({ number, title, declaredAt }, 'UTC', attempt - 1));
      }),
    );
  });
});

describe('/incident grammar', () => {
  it('declares with options anywhere and invites mentioned people', () => {
    expect(parseIncidentCommand('Checkout down service=payments sev=1 <@U0ALEX|alex> --private')).toEqual({
      kind: 'declare',
      title: 'Checkout down',
      service: 'payments',
      severity: 1,
      private: true,
      invite: ['U0ALEX'],
    });
  });

  it('declares a title of any length; the declaration shortens it', () => {
    expect(parseIncidentCommand(`${'x'.repeat(151)} sev=1`)).toMatchObject({ kind: 'declare', title: 'x'.repeat(151), severity: 1 });
  });

  it('opens the modal without text and explains bad input', () => {
    expect(parseIncidentCommand('  ')).toEqual({ kind: 'open_modal' });
    expect(parseIncidentCommand('declare')).toEqual({ kind: 'open_modal' });
    expect(parseIncidentCommand('sev=9 boom')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('sev=1') });
    expect(parseIncidentCommand('<@U0ALEX>')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('needs a title') });
  });

  it('parses subcommands and suggests `declare` when the text was a title', () => {
    expect(parseIncidentCommand('sev 2')).toEqual({ kind: 'severity', severity: 2 });
    expect(parseIncidentCommand('severity SEV-1')).toEqual({ kind: 'severity', severity: 1 });
    expect(parseIncidentCommand('status Identified')).toEqual({ kind: 'status', status: 'identified' });
    expect(parseIncidentCommand('status resolved')).toEqual({ kind: 'resolve' });
    expect(parseIncidentCommand('commander <@U0ALEX|alex>')).toEqual({ kind: 'commander', user: 'U0ALEX' });
    expect(parseIncidentCommand('commander me')).toEqual({ kind: 'commander', user: 'me' });
    expect(parseIncidentCommand('update Rolled back v41')).toEqual({ kind: 'update', text: 'Rolled back v41' });
    expect(parseIncidentCommand('resolve Fixed by rollback')).toEqual({ kind: 'resolve', summary: 'Fixed by rollback' });
    const statusPage = parseIncidentCommand('status page is down');
    expect(statusPage).toMatchObject({ kind: 'invalid' });
    expect((statusPage as { message: string }).message).toContain('/incident declare status page is down');
    expect(parseIncidentCommand('commander @alex')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('mention them') });
    expect(parseIncidentCommand('update')).toMatchObject({ kind: 'invalid' });
  });

  it('reads severities in the forms people type', () => {
    expect([1, '2', 'sev3', 'SEV-4', 'sev5', '0', 'high'].map(parseSeverity)).toEqual([1, 2, 3, 4, undefined, undefined, undefined]);
  });

  it('reads the severity words monitoring tools send', () => {
    expect(['critical', 'High', 'error', 'warning', ' info ', 'sev2', 'page', ''].map(readSeverity)).toEqual([1, 2, 2, 3, 4, 2, undefined, undefined]);
  });
});

describe('fitting a declaration', () => {
  it('keeps a title that fits as it is', () => {
    expect(fitDeclaration({ title: ' Checkout down ', description: ' p99 4s ' })).toEqual({ title: 'Checkout down', description: 'p99 4s', notes: [] });
  });

  it('shortens any long title to the limit with an ellipsis and loses none of its text', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 600, unit: 'grapheme' }), fc.option(fc.string({ maxLength: 200 })), (title, description) => {
        fc.pre(title.trim().length > 0);
        const fitted = fitDeclaration({ title, description });
        expect(fitted.title.length).toBeLessThanOrEqual(150);
        if (title.trim().length <= 150) {
          expect(fitted.title).toBe(title.trim());
        } else {
          expect(fitted.title.endsWith('…')).toBe(true);
          expect(fitted.description!.startsWith(title.trim())).toBe(true);
          expect(fitted.notes).toHaveLength(1);
          // Never half an emoji: the cut is well-formed UTF-16.
          expect(fitted.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
        }
      }),
    );
  });

  it('cuts an over-long description and says so', () => {
    const fitted = fitDeclaration({ title: 'x', description: 'y'.repeat(50_000) });
    expect(fitted.description).toHaveLength(40_000);
    expect(fitted.notes).toEqual(['The description was 50000 characters, so it is cut to 40000.']);
  });

  it('keeps long dedup keys distinct and stable at 255 characters', () => {
    const long = 'k'.repeat(300);
    expect(fitDedupKey('short')).toEqual({ key: 'short', shortened: false });
    expect(fitDedupKey(long).key).toHaveLength(255);
    expect(fitDedupKey(long)).toEqual(fitDedupKey(long));
    expect(fitDedupKey(long).key).not.toBe(fitDedupKey(`${long}x`).key);
  });
});

describe('/incident followup', () => {
  it('reads a title and an optional owner', () => {
    expect(parseIncidentCommand('followup Add retries <@U0BOB|bob>')).toEqual({ kind: 'followup', title: 'Add retries', owner: 'U0BOB' });
    expect(parseIncidentCommand('follow-up Add retries')).toEqual({ kind: 'followup', title: 'Add retries' });
    expect(parseIncidentCommand('followups')).toEqual({ kind: 'followups' });
  });

  it('refuses no title, two owners and a name Slack did not turn into a mention', () => {
    expect(parseIncidentCommand('followup')).toMatchObject({ kind: 'invalid' });
    expect(parseIncidentCommand('followup <@U0BOB>')).toMatchObject({ kind: 'invalid' });
    expect(parseIncidentCommand('followup Fix <@U0BOB> <@U0ANN>')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('one owner') });
    expect(parseIncidentCommand('followup Fix @bob')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('@bob is not a person') });
    expect(parseIncidentCommand('followup Fix <!channel>')).toMatchObject({ kind: 'invalid' });
  });
});
