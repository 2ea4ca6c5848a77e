import { describe, expect, it } from 'vitest';
import type { ChangeRow, DeploymentRow, IncidentRow, ProblemRow } from '../../src/db/schema';
import { renderPostmortem } from '../../src/incidents/postmortem';

const at = (time: string) => new Date(`2026-11-23T${time}Z`);

const incident = {
  number: 7,
  title: 'Checkout returns 500s | *all* regions',
  description: null,
  service: 'payments',
  severity: 2,
  status: 'resolved',
  commander: 'U0LEAD',
  declaredAt: at('09:00:00'),
  resolvedAt: at('10:12:30'),
  resolution: 'Rolled back v4.0.0\nand drained the queue',
} as unknown as IncidentRow;

describe('the postmortem draft', () => {
  it('renders every section, with the timeline, the linked cause and the follow-ups', () => {
    const markdown = renderPostmortem({
      incident,
      timeline: [
        { at: at('09:00:00'), actor: 'U0ALICE', text: 'Declared SEV2: Checkout returns 500s' },
        { at: at('09:20:00'), actor: 'U0LEAD', text: 'Error rate at 40% after the `v4` deploy' },
      ],
      changes: [{ number: 42, title: 'Deploy v4.0.0', status: 'failed', environment: 'production' } as ChangeRow],
      deployments: [{ environment: 'production', finishedAt: at('08:55:00'), status: 'success', commitSha: '0123456789abcdef' } as DeploymentRow],
      followUps: [
        { number: 3, title: 'Canary for checkout deploys', owner: 'U0BOB', state: 'open' } as ProblemRow,
        { number: 4, title: 'Page on queue depth', owner: null, state: 'wont-do' } as ProblemRow,
      ],
    });
    expect(markdown).toBe(
      [
        '# Postmortem draft: INC-7 Checkout returns 500s \\| \\*all\\* regions',
        '',
        '## Summary',
        '',
        'Rolled back v4.0.0 and drained the queue',
        '',
        '## Impact and time to restore',
        '',
        '- Service: payments',
        '- Severity: SEV2',
        '- Declared: 2026-11-23T09:00:00Z',
        '- Resolved: 2026-11-23T10:12:30Z',
        '- Time to restore: 1h 12m (4350 s)',
        '- Commander: U0LEAD',
        '',
        '## Timeline',
        '',
        '- 2026-11-23T09:00:00Z · U0ALICE · Declared SEV2: Checkout returns 500s',
        '- 2026-11-23T09:20:00Z · U0LEAD · Error rate at 40% after the \\`v4\\` deploy',
        '',
        '## Linked changes and deployments',
        '',
        '- CHG-42 Deploy v4.0.0 (failed, production)',
        '- Deployment to production at 2026-11-23T08:55:00Z (success, 0123456789ab)',
        '',
        '## Follow-ups',
        '',
        '- PRB-3 Canary for checkout deploys · U0BOB · open',
        "- PRB-4 Page on queue depth · no owner · won't do",
        '',
        '## Causes',
        '',
        '',
        '## Lessons',
        '',
        '',
      ].join('\n'),
    );
  });

  it('says what is missing instead of leaving a section blank', () => {
    const markdown = renderPostmortem({ incident: { ...incident, resolution: null, resolvedAt: null, commander: null }, timeline: [], changes: [], deployments: [], followUps: [] });
    expect(markdown).toContain('## Summary\n\n_No resolution summary was recorded._');
    expect(markdown).toContain('- Time to restore: not restored yet');
    expect(markdown).toContain('## Timeline\n\n_Nothing was recorded._');
    expect(markdown).toContain('## Linked changes and deployments\n\n_None linked._');
    expect(markdown).toContain('## Follow-ups\n\n_None yet._');
  });
});
