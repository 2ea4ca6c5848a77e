import type { ChangePolicy } from '../catalog';
import type { PolicyExplanation } from '../db/schema';
import { percent } from './model';

/**
 * The standard-change policy, as pure arithmetic. Each service has a change budget
 * per sprint; a standard change is approved while budget remains and the service's
 * change success rate over its recent sprints is at or above the threshold. Each
 * sprint's budget follows the trend of the success rate: it grows by `step` when the
 * rate rose, shrinks by `step` when it fell, and stays within [min, max].
 */

/** Changes of one sprint that reached an outcome: deployed and settled, or failed. */
export interface SprintOutcome {
  sprint: string;
  succeeded: number;
  failed: number;
}

export interface SuccessRate {
  rate: number | null;
  succeeded: number;
  total: number;
  sprints: string[];
}

export function successRate(outcomes: SprintOutcome[]): SuccessRate {
  const succeeded = outcomes.reduce((sum, outcome) => sum + outcome.succeeded, 0);
  const total = outcomes.reduce((sum, outcome) => sum + outcome.succeeded + outcome.failed, 0);
  return { rate: total > 0 ? succeeded / total : null, succeeded, total, sprints: outcomes.map((outcome) => outcome.sprint) };
}

export interface BudgetDecision {
  budget: number;
  reason: string;
}

/**
 * The budget for a new sprint from the last known budget and the success rates of
 * the two sprints before it (`lastRate` the newer). A sprint without outcomes has
 * no rate, and without two rates there is no trend: the budget stays.
 */
export function nextBudget(
  policy: ChangePolicy['budget'],
  previousBudget: number | undefined,
  lastRate: number | null,
  priorRate: number | null,
): BudgetDecision {
  if (previousBudget === undefined) {
    return { budget: policy.initial, reason: `first budgeted sprint: the initial budget of ${policy.initial}` };
  }
  const clamp = (value: number) => Math.min(policy.max, Math.max(policy.min, value));
  if (lastRate === null || priorRate === null) {
    return {
      budget: clamp(previousBudget),
      reason: `budget kept at ${clamp(previousBudget)}: no success-rate trend yet (a recent sprint had no completed changes)`,
    };
  }
  const trend = `success rate ${lastRate > priorRate ? 'rose' : lastRate < priorRate ? 'fell' : 'held'} from ${percent(priorRate)} to ${percent(lastRate)}`;
  if (lastRate > priorRate) {
    const budget = clamp(previousBudget + policy.step);
    return { budget, reason: `${trend}: budget ${previousBudget} → ${budget}${budget === policy.max ? ' (the maximum)' : ''}` };
  }
  if (lastRate < priorRate) {
    const budget = clamp(previousBudget - policy.step);
    return { budget, reason: `${trend}: budget ${previousBudget} → ${budget}${budget === policy.min ? ' (the minimum)' : ''}` };
  }
  return { budget: clamp(previousBudget), reason: `${trend}: budget stays at ${clamp(previousBudget)}` };
}

export interface StandardChangeFacts {
  sprint: string;
  budget: number;
  budgetReason: string;
  /** Standard changes the policy already approved in this sprint. */
  used: number;
  history: SuccessRate;
  threshold: number;
}

/** Decides a standard change and says why, with every figure it used. */
export function evaluateStandardChange(facts: StandardChangeFacts): PolicyExplanation {
  const { history, threshold, budget, used } = facts;
  const figures = {
    sprint: facts.sprint,
    budget,
    budget_reason: facts.budgetReason,
    used,
    remaining: Math.max(0, budget - used),
    success_rate: history.rate,
    succeeded: history.succeeded,
    completed: history.total,
    sprints: history.sprints,
    threshold,
  };
  const track = history.rate === null ? '' : `${percent(history.rate)} (${history.succeeded} of ${history.total} over the last ${plural(history.sprints.length, 'sprint')})`;
  if (history.rate === null) {
    return {
      rule: 'no_track_record',
      outcome: 'needs_approval',
      summary: `No completed changes in the last ${plural(history.sprints.length, 'sprint')} to judge by, so this standard change needs an approver.`,
      figures,
    };
  }
  if (history.rate < threshold) {
    return {
      rule: 'success_rate_below_threshold',
      outcome: 'needs_approval',
      summary: `Change success rate ${track} is below the ${percent(threshold)} threshold, so this standard change needs an approver.`,
      figures,
    };
  }
  if (used >= budget) {
    return {
      rule: 'budget_exhausted',
      outcome: 'needs_approval',
      summary: `This sprint's change budget is used up (${used} of ${budget}), so this standard change needs an approver.`,
      figures,
    };
  }
  return {
    rule: 'within_budget',
    outcome: 'approved',
    summary: `Approved by policy: change success rate ${track} meets the ${percent(threshold)} threshold, and this is standard change ${used + 1} of ${budget} in this sprint's budget.`,
    figures: { ...figures, remaining: budget - used - 1 },
  };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
