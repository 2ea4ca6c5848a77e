import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateStandardChange, nextBudget, successRate } from '../../src/changes/policy';

const budget = { initial: 10, min: 2, max: 20, step: 3 };
const rate = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null });

describe('change budget arithmetic', () => {
  it('starts at the initial budget', () => {
    expect(nextBudget(budget, undefined, 0.9, 0.5)).toEqual({ budget: 10, reason: 'first budgeted sprint: the initial budget of 10' });
  });

  it('grows when the success rate rose, shrinks when it fell, holds otherwise', () => {
    expect(nextBudget(budget, 10, 0.95, 0.8)).toEqual({ budget: 13, reason: 'success rate rose from 80% to 95%: budget 10 → 13' });
    expect(nextBudget(budget, 10, 0.7, 0.9)).toEqual({ budget: 7, reason: 'success rate fell from 90% to 70%: budget 10 → 7' });
    expect(nextBudget(budget, 10, 0.9, 0.9).budget).toBe(10);
    expect(nextBudget(budget, 10, null, 0.9).reason).toContain('no success-rate trend yet');
    expect(nextBudget(budget, 19, 1, 0.5)).toEqual({ budget: 20, reason: 'success rate rose from 50% to 100%: budget 19 → 20 (the maximum)' });
    expect(nextBudget(budget, 3, 0, 0.5).budget).toBe(2);
  });

  it('always stays within [min, max] and moves with the trend (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), rate, rate, (previous, last, prior) => {
        const { budget: next, reason } = nextBudget(budget, previous, last, prior);
        expect(next).toBeGreaterThanOrEqual(budget.min);
        expect(next).toBeLessThanOrEqual(budget.max);
        const clamped = Math.min(budget.max, Math.max(budget.min, previous));
        if (last !== null && prior !== null && last > prior) expect(next).toBeGreaterThanOrEqual(clamped);
        if (last !== null && prior !== null && last < prior) expect(next).toBeLessThanOrEqual(clamped);
        if (last === null || prior === null || last === prior) expect(next).toBe(clamped);
        expect(reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('follows a run of sprints: up while quality improves, down when it slips', () => {
    const rates = [0.8, 0.85, 0.9, 0.95, 0.9, 0.7];
    let current: number | undefined;
    const budgets: number[] = [];
    for (let sprint = 0; sprint < rates.length; sprint += 1) {
      current = nextBudget(budget, current, rates[sprint - 1] ?? null, rates[sprint - 2] ?? null).budget;
      budgets.push(current);
    }
    expect(budgets).toEqual([10, 10, 13, 16, 19, 16]);
  });
});

describe('standard change evaluation', () => {
  const facts = (overrides: Partial<Parameters<typeof evaluateStandardChange>[0]> = {}) => ({
    sprint: '2026-11-16',
    budget: 5,
    budgetReason: 'first budgeted sprint: the initial budget of 5',
    used: 2,
    history: successRate([
      { sprint: '2026-11-02', succeeded: 9, failed: 1 },
      { sprint: '2026-10-19', succeeded: 10, failed: 0 },
    ]),
    threshold: 0.9,
    ...overrides,
  });

  it('approves within budget at or above the threshold, and shows its figures', () => {
    const decision = evaluateStandardChange(facts());
    expect(decision).toMatchObject({ rule: 'within_budget', outcome: 'approved' });
    expect(decision.summary).toBe(
      'Approved by policy: change success rate 95% (19 of 20 over the last 2 sprints) meets the 90% threshold, and this is standard change 3 of 5 in this sprint\'s budget.',
    );
    expect(decision.figures).toMatchObject({ budget: 5, used: 2, remaining: 2, success_rate: 0.95, succeeded: 19, completed: 20, threshold: 0.9 });
  });

  it('falls back to approvers below the threshold, over budget, or without a track record', () => {
    const low = evaluateStandardChange(facts({ history: successRate([{ sprint: 'a', succeeded: 8, failed: 2 }]) }));
    expect(low).toMatchObject({ rule: 'success_rate_below_threshold', outcome: 'needs_approval' });
    expect(low.summary).toContain('80% (8 of 10 over the last 1 sprint) is below the 90% threshold');
    expect(evaluateStandardChange(facts({ used: 5 }))).toMatchObject({ rule: 'budget_exhausted', summary: expect.stringContaining('(5 of 5)') });
    expect(evaluateStandardChange(facts({ history: successRate([{ sprint: 'a', succeeded: 0, failed: 0 }]) }))).toMatchObject({ rule: 'no_track_record' });
  });

  it('approves exactly when rate ≥ threshold and budget remains (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (budgetSize, used, succeeded, failed, threshold) => {
          const history = successRate([{ sprint: 's', succeeded, failed }]);
          const decision = evaluateStandardChange({ ...facts(), budget: budgetSize, used, history, threshold });
          const approve = history.rate !== null && history.rate >= threshold && used < budgetSize;
          expect(decision.outcome).toBe(approve ? 'approved' : 'needs_approval');
          expect(decision.figures.threshold).toBe(threshold);
        },
      ),
    );
  });
});
