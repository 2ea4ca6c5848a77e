import { describe, expect, it } from 'vitest';
import { parseIncidentCommand } from '../../src/incidents/model';
import { mergeTimeline, reactionName, timelinePage, tsToDate } from '../../src/incidents/timeline';

describe('timeline rules', () => {
  it('reads /incident timeline [page] and /incident catchup', () => {
    expect(parseIncidentCommand('timeline')).toEqual({ kind: 'timeline', page: 1 });
    expect(parseIncidentCommand('timeline 3')).toEqual({ kind: 'timeline', page: 3 });
    expect(parseIncidentCommand('timeline 0')).toMatchObject({ kind: 'invalid' });
    expect(parseIncidentCommand('timeline next')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('/incident declare timeline next') });
    expect(parseIncidentCommand('catchup')).toEqual({ kind: 'catchup' });
    expect(parseIncidentCommand('catch-up')).toEqual({ kind: 'catchup' });
  });

  it('pages newest first, each page oldest first, a page past the end being the oldest', () => {
    const entries = Array.from({ length: 45 }, (_, i) => i + 1);
    expect(timelinePage(entries, 1)).toEqual({ entries: entries.slice(25), page: 1, pages: 3 });
    expect(timelinePage(entries, 2).entries).toEqual(entries.slice(5, 25));
    expect(timelinePage(entries, 3).entries).toEqual(entries.slice(0, 5));
    expect(timelinePage(entries, 99).page).toBe(3);
    expect(timelinePage([], 1)).toEqual({ entries: [], page: 1, pages: 1 });
  });

  it('reads a message ts as its time and a reaction without its skin tone', () => {
    expect(tsToDate('1795424400.000200').toISOString()).toBe('2026-11-23T09:00:00.000Z');
    expect(tsToDate('1795424400.123456').getMilliseconds()).toBe(123);
    expect(reactionName('pushpin::skin-tone-2')).toBe('pushpin');
  });

  it('merges messages among events by time, events first at the same instant', () => {
    const at = (seconds: number, kind: string) => ({ id: 0, incidentId: 'i', at: new Date(seconds * 1000), actor: 'U', kind, text: kind, data: {} });
    const merged = mergeTimeline([at(1, 'declared'), at(3, 'update')], [at(1, 'message'), at(2, 'message'), at(4, 'message')]);
    expect(merged.map((entry) => `${entry.at.getTime() / 1000}${entry.kind}`)).toEqual(['1declared', '1message', '2message', '3update', '4message']);
  });
});
