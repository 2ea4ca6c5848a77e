import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockProblems } from '../../src/fake-slack';
import { type DigestView, maxFeaturesPerGroup, renderSprintDigest } from '../../src/sprints/blocks';
import { type FeatureStatus, type FeatureSummary, featureStatuses } from '../../src/sprints/model';

const sprint = { name: 'Sprint 42', service: 'payments', startsOn: '2026-11-23', endsOn: '2026-12-04' };
const feature = (index: number, status: FeatureStatus = 'planned', customerVisible = true): FeatureSummary => ({
  key: `F-${index}`,
  title: `Feature number ${index}`,
  status,
  customerVisible,
});
const render = (features: FeatureSummary[], audience: DigestView['audience'] = 'customers') => renderSprintDigest({ sprint, features, audience });

/** Every text a person could read in the message. */
const texts = (message: ReturnType<typeof render>): string[] =>
  JSON.stringify(message.blocks)
    .match(/"text":"((?:[^"\\]|\\.)*)"/g)!
    .map((match) => JSON.parse(match.slice(7)) as string);

/** How many features a message accounts for: lines shown plus the counts in "…and N more". */
const accountedFor = (message: ReturnType<typeof render>) =>
  texts(message)
    .flatMap((text) => text.split('\n'))
    .reduce((sum, line) => sum + (line.startsWith('• ') ? 1 : Number(/^_…and (\d+) more_$/.exec(line)?.[1] ?? 0)), 0);

describe('the sprint digest', () => {
  it('says so when a sprint has no customer-facing features', () => {
    const message = render([feature(1, 'in-dev', false)]);
    expect(message.text).toBe('Sprint 42 (payments): 0 of 0 features done');
    expect(texts(message)).toEqual([
      'Sprint 42 · payments',
      '🗓️ 23 Nov – 4 Dec 2026',
      'No customer-facing features are planned for this sprint yet.',
      'This message is kept up to date as work progresses. Questions or requests? Ask in this channel.',
    ]);
  });

  it('shows one feature with the sprint’s dates and progress', () => {
    const message = render([feature(1, 'done')]);
    expect(message.text).toBe('Sprint 42 (payments): 1 of 1 feature done');
    expect(texts(message)).toEqual([
      'Sprint 42 · payments',
      '🗓️ 23 Nov – 4 Dec 2026',
      '*Progress* ▰▰▰▰▰▰▰▰▰▰ 100%  ·  1 of 1 feature done',
      '*✅ Done* (1)\n• Feature number 1',
      'This message is kept up to date as work progresses. Questions or requests? Ask in this channel.',
    ]);
  });

  it('groups by status, shipped work first, and leaves dropped features out of the progress', () => {
    const features = [feature(1, 'planned'), feature(2, 'dropped'), feature(3, 'in-uat'), feature(4, 'done'), feature(5, 'in-dev')];
    const message = render(features);
    expect(texts(message).filter((text) => text.startsWith('*')).slice(1)).toEqual([
      '*✅ Done* (1)\n• Feature number 4',
      '*🧪 In acceptance testing* (1)\n• Feature number 3',
      '*🛠️ In development* (1)\n• Feature number 5',
      '*🗓️ Planned* (1)\n• Feature number 1',
      '*↩️ Moved out of this sprint* (1)\n• Feature number 2',
    ]);
    expect(message.text).toBe('Sprint 42 (payments): 1 of 4 features done');
    expect(texts(message)).toContain('*Progress* ▰▰▰▱▱▱▱▱▱▱ 25%  ·  1 of 4 features done');
  });

  it('summarises 200 features inside Slack’s limits instead of dropping any', () => {
    const features = Array.from({ length: 200 }, (_, index) => feature(index, featureStatuses[index % featureStatuses.length]!));
    const message = render(features);
    expect(blockProblems(message.blocks, 50)).toEqual([]);
    expect(accountedFor(message)).toBe(200);
    expect(texts(message)).toContain(`*✅ Done* (40)\n${features.filter((f) => f.status === 'done').slice(0, maxFeaturesPerGroup).map((f) => `• ${f.title}`).join('\n')}\n_…and 20 more_`);
  });

  it('shows fewer features per group when long titles would pass 50 blocks', () => {
    // Each title escapes to 1,000 characters, so 20 per group would need 55 blocks.
    const features = featureStatuses.flatMap((status) => Array.from({ length: 30 }, (_, index) => ({ ...feature(index, status), title: '&'.repeat(200) })));
    const message = render(features);
    expect(blockProblems(message.blocks, 50)).toEqual([]);
    expect(accountedFor(message)).toBe(150);
    expect(texts(message).filter((text) => text.endsWith('_…and 20 more_'))).toHaveLength(5);
  });

  it('shows the team keys and internal features, marked', () => {
    const message = render([feature(1, 'in-dev'), feature(2, 'in-dev', false)], 'team');
    expect(texts(message)).toContain('*🛠️ In development* (2)\n• `F-1` Feature number 1\n• `F-2` Feature number 2 🔒');
  });

  it('escapes titles so nobody can broadcast or fake links through a feature', () => {
    const message = render([{ ...feature(1), title: 'Alerts for <!channel> & <https://evil.example|your bank>' }]);
    expect(texts(message)).toContain('*🗓️ Planned* (1)\n• Alerts for @channel &amp; your bank');
  });

  const featureArbitrary = fc.record({
    key: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,63}$/),
    title: fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.constantFrom('&'.repeat(200), '<'.repeat(200), '<!here>'.repeat(28))),
    status: fc.constantFrom(...featureStatuses),
    customerVisible: fc.boolean(),
  });

  it('holds Block Kit’s limits and accounts for every customer-visible feature, whatever the features', () => {
    fc.assert(
      fc.property(fc.array(featureArbitrary, { maxLength: 400 }), fc.constantFrom<DigestView['audience']>('customers', 'team'), (features, audience) => {
        const message = render(features, audience);
        expect(blockProblems(message.blocks, 50)).toEqual([]);
        expect(message.blocks!.length).toBeLessThanOrEqual(50);
        for (const text of texts(message)) expect(text.length).toBeLessThanOrEqual(3000);
        const shown = audience === 'customers' ? features.filter((f) => f.customerVisible) : features;
        expect(accountedFor(message)).toBe(shown.length);
      }),
      { numRuns: 150 },
    );
  });

  it('never shows an internal feature to customers', () => {
    fc.assert(
      fc.property(fc.array(featureArbitrary, { maxLength: 60 }), fc.uuid(), (features, marker) => {
        const secret = { key: 'SECRET-1', title: `internal ${marker}`, status: 'in-dev' as const, customerVisible: false };
        const message = render([...features.filter((f) => f.customerVisible), secret]);
        expect(JSON.stringify(message)).not.toContain(marker);
        expect(JSON.stringify(message)).not.toContain('SECRET-1');
      }),
      { numRuns: 50 },
    );
  });
});
