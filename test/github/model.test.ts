import { describe, expect, it } from 'vitest';
import { parseCatalog, serviceOfRepository, tandemEnvironmentOf } from '../../src/catalog';
import type { ChangeRow } from '../../src/db/schema';
import { decisionComment, waitingComment } from '../../src/github/messaging';
import { classifyCall, finishedDeploymentStatus, gateTitle, maxCommentLength, retryDelayMs, runIdOfCallback } from '../../src/github/model';

const catalog = parseCatalog(`
services:
  payments:
    approvers: { users: [U0ANN] }
    github: { repositories: [Acme/Payments-API], environments: { Prod: production } }
`);

const change = (patch: Partial<ChangeRow>) => ({ number: 42, status: 'pending', type: 'normal', decidedBy: null, decisionReason: null, policy: null, ...patch }) as ChangeRow;

describe('the GitHub gate’s rules', () => {
  it('finds a repository’s service whatever its case, and maps environments', () => {
    expect(serviceOfRepository(catalog, 'acme/payments-api')).toBe('payments');
    expect(serviceOfRepository(catalog, 'acme/other')).toBeUndefined();
    const service = catalog.services.payments!;
    expect(tandemEnvironmentOf(service, 'prod')).toBe('production');
    expect(tandemEnvironmentOf(service, 'Staging')).toBe('staging');
  });

  it('reads the run from the callback URL', () => {
    expect(runIdOfCallback('https://api.github.com/repos/acme/payments-api/actions/runs/123/deployment_protection_rule')).toBe(123);
    expect(runIdOfCallback('https://ghe.acme.test/api/v3/repos/a/b/actions/runs/9/deployment_protection_rule')).toBe(9);
    expect(runIdOfCallback('https://api.github.com/repos/a/b/issues/1')).toBeUndefined();
  });

  it('titles a change from the workflow, the head commit’s first line and the short SHA, within 150 characters', () => {
    const run = { id: 1, name: 'Deploy', head_sha: '1f2e3d4c5b6a', html_url: 'u', head_commit: { message: 'Fix refund rounding\n\nDetails' } };
    expect(gateTitle(run)).toBe('Deploy: Fix refund rounding (1f2e3d4)');
    expect(gateTitle({ ...run, head_commit: { message: 'x'.repeat(300) } })).toHaveLength(150);
    expect(gateTitle({ ...run, name: null, head_commit: null })).toBe('Workflow run (1f2e3d4)');
  });

  it('retries 5xx, 429, 401 and network errors with growing delays, ends on 422, fails other 4xx', () => {
    expect(classifyCall(204, 1, 'ok')).toEqual({ kind: 'sent' });
    expect(classifyCall(422, 1, 'No pending deployment requests')).toMatchObject({ kind: 'settled' });
    expect(classifyCall(502, 1, 'bad gateway')).toMatchObject({ kind: 'retry', afterMs: 5_000 });
    expect(classifyCall(undefined, 3, 'fetch failed')).toMatchObject({ kind: 'retry', afterMs: 20_000 });
    expect(classifyCall(429, 1, 'slow down', 60)).toMatchObject({ kind: 'retry', afterMs: 60_000 });
    expect(classifyCall(404, 1, 'Not Found')).toMatchObject({ kind: 'failed' });
    expect(retryDelayMs(30)).toBe(600_000);
  });

  it('records only finished deployment states', () => {
    expect(['success', 'failure', 'error', 'in_progress', 'queued'].map(finishedDeploymentStatus)).toEqual(['success', 'failure', 'failure', undefined, undefined]);
  });

  it('says in the run who or what decided', () => {
    expect(waitingComment(change({}), 1, 2)).toBe('CHG-42 waiting for 1 of 2 approvals in Slack');
    expect(waitingComment(change({}), 0, 1)).toBe('CHG-42 waiting for 1 of 1 approval in Slack');
    const declined = change({ type: 'standard', policy: { rule: 'over_budget', outcome: 'needs_approval', summary: 'The budget is spent.', figures: {} } });
    expect(waitingComment(declined, 0, 1)).toBe('CHG-42 waiting for 1 of 1 approval in Slack (the policy asked for approvers: The budget is spent.)');
    expect(decisionComment(change({ status: 'approved', decidedBy: ['U0ANN', 'U0BEN'] }), ['Ann', 'Ben'])).toBe('CHG-42 approved in Slack by Ann and Ben');
    expect(decisionComment(change({ status: 'rejected', decidedBy: ['U0CAT'], decisionReason: 'No rollback' }), ['Cat'])).toBe('CHG-42 rejected in Slack by Cat: No rollback');
    expect(decisionComment(change({ status: 'cancelled', decisionReason: 'expired' }), [])).toBe('CHG-42 was cancelled in Tandem: expired');
    const policy = { rule: 'within_budget', outcome: 'approved' as const, summary: 'Approved by policy: success rate 100%.', figures: {} };
    expect(decisionComment(change({ status: 'approved', decidedBy: ['policy'], policy }), [])).toBe('CHG-42 approved by policy: success rate 100%.');
    expect(decisionComment(change({ status: 'rejected', decidedBy: ['U0CAT'], decisionReason: 'x'.repeat(2000) }), ['Cat'])).toHaveLength(maxCommentLength);
  });
});
