import { leaseMs, whileRenewing } from '../db/lease';
import type { IncidentRow } from '../db/schema';
import { isSlackUserId } from '../slack/text';
import { unitOfWork } from '../unit-of-work';
import type { SetupReport } from './blocks';
import type { IncidentDeps } from './deps';
import { requireIncident } from './lookup';
import { setupProblemsMessage } from './messaging';
import * as store from './store';
import { Interrupted, RetryLater, SetupRun } from './swarm-steps';
import { PollingLoop } from '../jobs/polling-loop';

/**
 * Swarm set-up: channel, people, pinned summary, "declared" notices. It is a job on
 * the incident row (pending from the insert), so it survives a crash or a Slack
 * outage: the declaring request runs it at once, and the worker resumes whatever is
 * left (after a crash, a 429, a 5xx) on any instance. Each step records its result
 * before the next one starts and checks what is recorded before calling Slack, so a
 * resumed set-up repeats nothing that succeeded. This file claims and runs set-ups;
 * the steps themselves are in swarm-steps.ts.
 */

/** How long the declaring request has to run set-up itself before the worker takes an untouched one. */
const declarerHeadStartMs = 5_000;
/** How often a declarer's run looks again when another instance holds the set-up. */
const pollWhileHeldMs = 100;
/** How often the worker looks for set-ups to resume, and how many it takes at a time, unless told otherwise. */
const defaultPollIntervalMs = 1_000;
const defaultBatchSize = 4;

export interface SetupOutcome {
  incident: IncidentRow;
  report: SetupReport;
  /** The timeline entry of this run's first unfixable failure, which names the declarer's notice so it is sent once. */
  firstProblemEvent?: number;
}

/**
 * Runs the set-up now for the person declaring (command, modal, API) and answers
 * with how far it got. When another instance is already at it, waits briefly for
 * that run instead of racing it.
 */
export async function openSwarm(deps: IncidentDeps, incidentId: string): Promise<SetupOutcome> {
  return runClaimed(deps, incidentId, false);
}

/** **Try again** ("retry now"): runs the set-up again at once, inviting and pinning again, keeping the channel and summary it has. */
export async function retrySwarmNow(deps: IncidentDeps, incidentId: string): Promise<SetupOutcome> {
  return runClaimed(deps, incidentId, true);
}

async function runClaimed(deps: IncidentDeps, incidentId: string, again: boolean): Promise<SetupOutcome> {
  for (let waited = 0; ; waited += pollWhileHeldMs) {
    const now = deps.clock.now();
    const claimed = await store.claimSwarmSetup(deps.db, incidentId, now, new Date(now.getTime() + leaseMs), again);
    if (claimed) return runSetup(deps, claimed);
    const incident = await requireIncident(deps.db, incidentId);
    const held = incident.swarmLockedUntil !== null && incident.swarmLockedUntil > deps.clock.now();
    if (!held || waited >= leaseMs || deps.shutdown.aborted) {
      return { incident, report: { channelCreated: false, problems: [], pending: incident.swarmSetup === 'pending' } };
    }
    await new Promise((resolve) => setTimeout(resolve, pollWhileHeldMs));
  }
}

/** Runs the steps of a claimed set-up, keeping its lease alive, and records where it ended. */
async function runSetup(deps: IncidentDeps, claimed: IncidentRow): Promise<SetupOutcome> {
  const run = new SetupRun(deps, claimed);
  const renew = () => store.renewSwarmLease(deps.db, claimed.id, new Date(deps.clock.now().getTime() + leaseMs));
  const onRenewalError = (error: unknown) => deps.logger.warn({ err: error, incident: claimed.number }, 'could not renew a swarm set-up lease');
  return whileRenewing(renew, onRenewalError, async () => {
    try {
      await run.steps();
      run.incident = await unitOfWork(deps, async ({ tx, emit }) => {
        const done = await store.updateIncident(tx, claimed.id, { swarmSetup: 'done', swarmLockedUntil: null, swarmLastError: null });
        emit({ kind: 'incident', incident: done });
        return done;
      });
      return { incident: run.incident, report: run.report(false), firstProblemEvent: run.firstProblemEvent };
    } catch (error) {
      if (error instanceof RetryLater) {
        deps.logger.warn({ incident: claimed.number, error: error.reason, retryInMs: error.afterMs }, 'swarm set-up will be retried');
        run.incident = await store.updateIncident(deps.db, claimed.id, {
          swarmNotBefore: new Date(deps.clock.now().getTime() + error.afterMs),
          swarmLockedUntil: null,
          swarmLastError: error.reason,
        });
        return { incident: run.incident, report: run.report(true), firstProblemEvent: run.firstProblemEvent };
      }
      // Shutdown, or a database that failed us: hand the lease back so another instance resumes at once.
      await store.updateIncident(deps.db, claimed.id, { swarmLockedUntil: null }).catch(() => {});
      if (error instanceof Interrupted) return { incident: run.incident, report: run.report(true) };
      throw error;
    }
  });
}

export interface SwarmSetupWorkerOptions {
  pollIntervalMs?: number;
  batchSize?: number;
}

/**
 * Resumes swarm set-ups left pending: after a crash (the lease ran out), after a
 * Slack outage (the retry time came), on whichever instance gets there first.
 */
export class SwarmSetupWorker {
  private readonly loop: PollingLoop;

  constructor(
    private readonly deps: IncidentDeps,
    private readonly options: SwarmSetupWorkerOptions = {},
  ) {
    this.loop = new PollingLoop(() => this.runUntilIdle(), {
      intervalMs: options.pollIntervalMs ?? defaultPollIntervalMs,
      onError: (error) => deps.logger.error({ err: error }, 'swarm set-up run failed'),
    });
  }

  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  /** Resolves once no set-up is due (those waiting for a retry time stay pending). */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  /** Claims nothing more; set-ups in hand stop at their next step and hand their lease back. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async runUntilIdle(): Promise<void> {
    while (!this.loop.stopped && !this.deps.shutdown.aborted) {
      const now = this.deps.clock.now();
      const claimed = await store.claimDueSwarmSetups(this.deps.db, {
        now,
        untouchedBefore: new Date(now.getTime() - declarerHeadStartMs),
        lockedUntil: new Date(now.getTime() + leaseMs),
        limit: this.options.batchSize ?? defaultBatchSize,
      });
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((incident) => this.resume(incident)));
    }
  }

  private async resume(incident: IncidentRow): Promise<void> {
    const { deps } = this;
    try {
      const run = await runSetup(deps, incident);
      await this.tellDeclarer(run);
    } catch (error) {
      deps.logger.error({ err: error, incident: incident.number }, 'swarm set-up failed');
    }
  }

  /**
   * Nobody is waiting for this run's answer, so unfixable problems go to the
   * declarer's DM with a **Try again** button, once (keyed by the first problem's
   * timeline entry). API declarers read them on the incident's timeline.
   */
  private async tellDeclarer({ incident, report, firstProblemEvent }: SetupOutcome): Promise<void> {
    if (firstProblemEvent === undefined || !isSlackUserId(incident.declaredBy)) return;
    await unitOfWork(this.deps, ({ send }) => send([setupProblemsMessage(incident, report, firstProblemEvent)]));
  }
}
