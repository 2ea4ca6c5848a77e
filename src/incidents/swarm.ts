import type { WebClient } from '@slack/web-api';
import { and, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { findService, respondersOf } from '../catalog';
import { leaseMs, whileRenewing } from '../db/lease';
import { type IncidentRow, incidents } from '../db/schema';
import { classifyDeliveryError } from '../slack/delivery-errors';
import { enqueue } from '../slack/outbox';
import { describeSlackError, slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import { declaredReply, type SetupReport, summaryMessage } from './blocks';
import { incidentChannelName } from './model';
import { type IncidentDeps, noticesFor, requireIncident } from './service';
import * as store from './store';

/**
 * Swarm set-up: channel, people, pinned summary, "declared" notices. It is a job on
 * the incident row (pending from the insert), so it survives a crash or a Slack
 * outage: the declaring request runs it at once, and the worker resumes whatever is
 * left (after a crash, a 429, a 5xx) on any instance. Each step records its result
 * before the next one starts and checks what is recorded before calling Slack, so a
 * resumed set-up repeats nothing that succeeded.
 */

/** How long the declaring request has to run set-up itself before the worker takes an untouched one. */
const declarerHeadStartMs = 5_000;
/** `inc-…-2`, `inc-…-3`, … when someone else holds the name. */
const maxChannelNameAttempts = 10;
/** How often a declarer's run looks again when another instance holds the set-up. */
const pollWhileHeldMs = 100;
/** conversations.list pages read to find a channel Slack made but whose answer was lost. */
const maxListPages = 20;

/** A step Slack refused for a reason that may pass (429, 5xx, network): the whole set-up waits and resumes. */
class RetryLater extends Error {
  constructor(
    readonly afterMs: number,
    readonly reason: string,
  ) {
    super(`retry in ${afterMs} ms: ${reason}`);
  }
}

/** Shutdown arrived between two steps: the lease is handed back and another instance resumes. */
class Interrupted extends Error {}

const setupProblemsTopic = 'incident.setup_problems';

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
    const claimed = await claimOne(deps, incidentId, again);
    if (claimed) return runSetup(deps, claimed);
    const incident = await requireIncident(deps.db, incidentId);
    const held = incident.swarmLockedUntil !== null && incident.swarmLockedUntil > deps.clock.now();
    if (!held || waited >= leaseMs || deps.shutdown.aborted) {
      return { incident, report: { channelCreated: false, problems: [], pending: incident.swarmSetup === 'pending' } };
    }
    await new Promise((resolve) => setTimeout(resolve, pollWhileHeldMs));
  }
}

/** Claims one incident's set-up for this instance, unless another holds it. `again` re-opens a finished one. */
async function claimOne(deps: IncidentDeps, incidentId: string, again: boolean): Promise<IncidentRow | undefined> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .update(incidents)
    .set({
      swarmLockedUntil: new Date(now.getTime() + leaseMs),
      swarmAttempts: sql`${incidents.swarmAttempts} + 1`,
      ...(again ? { swarmSetup: 'pending' as const, swarmInvited: false, summaryPinned: false, swarmAttempts: 1 } : {}),
    })
    .where(
      and(
        eq(incidents.id, incidentId),
        again ? undefined : eq(incidents.swarmSetup, 'pending'),
        or(isNull(incidents.swarmLockedUntil), lt(incidents.swarmLockedUntil, now)),
      ),
    )
    .returning();
  return row;
}

/** Claims due set-ups: pending, not leased, past their retry time (or untouched past the declarer's head start). */
async function claimDue(deps: IncidentDeps, limit: number): Promise<IncidentRow[]> {
  const now = deps.clock.now();
  const due = deps.db
    .select({ id: incidents.id })
    .from(incidents)
    .where(
      and(
        eq(incidents.swarmSetup, 'pending'),
        or(
          lte(incidents.swarmNotBefore, now),
          and(isNull(incidents.swarmNotBefore), lte(incidents.declaredAt, new Date(now.getTime() - declarerHeadStartMs))),
        ),
        or(isNull(incidents.swarmLockedUntil), lt(incidents.swarmLockedUntil, now)),
      ),
    )
    .orderBy(incidents.number)
    .limit(limit)
    .for('update', { skipLocked: true });
  return deps.db
    .update(incidents)
    .set({ swarmLockedUntil: new Date(now.getTime() + leaseMs), swarmAttempts: sql`${incidents.swarmAttempts} + 1` })
    .where(sql`${incidents.id} in ${due}`)
    .returning();
}

/** Runs the steps of a claimed set-up, keeping its lease alive, and records where it ended. */
async function runSetup(deps: IncidentDeps, claimed: IncidentRow): Promise<SetupOutcome> {
  const run = new SetupRun(deps, claimed);
  const renew = () =>
    deps.db
      .update(incidents)
      .set({ swarmLockedUntil: new Date(deps.clock.now().getTime() + leaseMs) })
      .where(and(eq(incidents.id, claimed.id), eq(incidents.swarmSetup, 'pending')));
  const onRenewalError = (error: unknown) => deps.logger.warn({ err: error, incident: claimed.number }, 'could not renew a swarm set-up lease');
  return whileRenewing(renew, onRenewalError, async () => {
    try {
      await run.steps();
      run.incident = await store.updateIncident(deps.db, claimed.id, { swarmSetup: 'done', swarmLockedUntil: null, swarmLastError: null });
      deps.events.emit({ kind: 'incident', incident: run.incident });
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

class SetupRun {
  readonly problems: string[] = [];
  firstProblemEvent: number | undefined;
  channelCreated = false;

  constructor(
    private readonly deps: IncidentDeps,
    public incident: IncidentRow,
  ) {}

  report(pending: boolean): SetupReport {
    return { channelCreated: this.channelCreated, problems: this.problems, pending };
  }

  async steps(): Promise<void> {
    if (!this.incident.channelId) await this.createChannel();
    const channel = this.incident.channelId;
    if (channel && !this.incident.swarmInvited) {
      this.checkpoint();
      await this.invitePeople(channel);
    }
    if (channel && !this.incident.summaryTs) {
      this.checkpoint();
      await this.postSummary(channel);
    }
    if (channel && this.incident.summaryTs && !this.incident.summaryPinned) {
      this.checkpoint();
      await this.pinSummary(channel, this.incident.summaryTs);
    }
    this.checkpoint();
    const { deps, incident } = this;
    const service = incident.service ? findService(deps.catalog, incident.service) : undefined;
    // Keyed per incident and channel, so a resumed or repeated set-up announces nothing twice.
    await enqueue(deps.db, deps.clock, noticesFor(incident, service, { kind: 'declared' }, incident.declaredBy, 'declared', false));
    deps.outbox.kick();
  }

  private checkpoint(): void {
    if (this.deps.shutdown.aborted) throw new Interrupted();
  }

  /** A Web API call whose transient failures postpone the set-up; answers the permanent error instead of throwing it. */
  private async call<T>(request: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown; code: string }> {
    try {
      return { ok: true, value: await request() };
    } catch (error) {
      const outcome = classifyDeliveryError(error, this.incident.swarmAttempts);
      if (outcome.kind === 'retry') throw new RetryLater(outcome.afterMs, outcome.error);
      return { ok: false, error, code: slackErrorCode(error) };
    }
  }

  private get client(): WebClient {
    return this.deps.durableSlack;
  }

  /**
   * Writes the name it is about to ask for before asking. If the answer was lost (a
   * crash, a timeout) and Slack did make the channel, the next run gets `name_taken`
   * for that same recorded name and adopts the channel the bot made, instead of
   * opening `…-2`. A name first tried in this run that is taken belongs to someone else.
   */
  private async createChannel(): Promise<void> {
    const { deps } = this;
    const timeZone = deps.timeZone;
    const unsettled = this.incident.swarmChannelName;
    let attempt = 1;
    while (unsettled && attempt < maxChannelNameAttempts && incidentChannelName(this.incident, timeZone, attempt) !== unsettled) attempt += 1;
    if (unsettled && incidentChannelName(this.incident, timeZone, attempt) !== unsettled) attempt = 1;
    for (; attempt <= maxChannelNameAttempts; attempt += 1) {
      const name = incidentChannelName(this.incident, timeZone, attempt);
      if (this.incident.swarmChannelName !== name) {
        this.incident = await store.updateIncident(deps.db, this.incident.id, { swarmChannelName: name });
      }
      const created = await this.call(() => this.client.conversations.create({ name, is_private: this.incident.private }));
      if (created.ok) {
        const id = created.value.channel?.id;
        if (!id) throw new RetryLater(1000, 'conversations.create answered without a channel id');
        await this.recordChannel(id, created.value.channel?.name ?? name, false);
        return;
      }
      if (created.code !== 'name_taken') return this.problem('create the incident channel', created.error);
      if (name !== unsettled) continue;
      const existing = await this.call(() => this.findOwnChannel(name));
      if (!existing.ok) return this.problem('create the incident channel', existing.error);
      if (existing.value) {
        await this.recordChannel(existing.value, name, true);
        return;
      }
    }
    await this.problem('create the incident channel', { code: 'slack_webapi_platform_error', data: { error: 'name_taken' } });
  }

  /** The channel with this name that the bot made and no other incident owns: ours, from an attempt whose answer was lost. */
  private async findOwnChannel(name: string): Promise<string | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < maxListPages; page += 1) {
      const listed = await this.client.conversations.list({
        types: this.incident.private ? 'private_channel' : 'public_channel',
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      const match = listed.channels?.find((channel) => channel.name === name);
      if (match?.id) {
        if (match.creator !== this.deps.botUserId) return undefined;
        const owner = await store.findIncidentByChannel(this.deps.db, match.id);
        return owner && owner.id !== this.incident.id ? undefined : match.id;
      }
      cursor = listed.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  private async recordChannel(id: string, name: string, adopted: boolean): Promise<void> {
    const { deps } = this;
    this.incident = await deps.db.transaction(async (tx) => {
      const row = await store.updateIncident(tx, this.incident.id, { channelId: id, channelName: name });
      await store.appendEvent(tx, {
        incidentId: row.id,
        at: deps.clock.now(),
        actor: 'tandem',
        kind: 'channel_created',
        text: `Opened #${name}`,
        data: { channel: id, name, ...(adopted ? { adopted: true } : {}) },
      });
      return row;
    });
    this.channelCreated = true;
  }

  private async invitePeople(channel: string): Promise<void> {
    const { incident, deps } = this;
    const service = incident.service ? findService(deps.catalog, incident.service) : undefined;
    const people = [
      ...(isSlackUserId(incident.declaredBy) ? [incident.declaredBy] : []),
      ...(service ? respondersOf(service) : []),
      ...(incident.commander ? [incident.commander] : []),
      ...incident.swarmInvite,
    ];
    const failures = await inviteToChannel(this.client, deps.botUserId, channel, people);
    for (const failure of failures) {
      const outcome = classifyDeliveryError(failure.error, incident.swarmAttempts);
      if (outcome.kind === 'retry') throw new RetryLater(outcome.afterMs, outcome.error);
    }
    for (const failure of failures) await this.problem(`invite <@${failure.user}>`, failure.error);
    this.incident = await store.updateIncident(deps.db, incident.id, { swarmInvited: true });
  }

  private async postSummary(channel: string): Promise<void> {
    const posted = await this.call(() => this.client.chat.postMessage({ channel, ...summaryMessage(this.incident) }));
    if (!posted.ok) return this.problem('post the incident summary', posted.error);
    // Recorded in one statement right after Slack's answer: the window for a second summary is one round trip.
    this.incident = await store.updateIncident(this.deps.db, this.incident.id, { summaryTs: posted.value.ts ?? null });
  }

  private async pinSummary(channel: string, ts: string): Promise<void> {
    const pinned = await this.call(() => this.client.pins.add({ channel, timestamp: ts }));
    if (!pinned.ok && pinned.code !== 'already_pinned') return this.problem('pin the summary', pinned.error);
    this.incident = await store.updateIncident(this.deps.db, this.incident.id, { summaryPinned: true });
  }

  /** A step Slack refused for good (a missing scope, a person who cannot be invited): on the timeline, and in the report. */
  private async problem(step: string, error: unknown): Promise<void> {
    const { deps, incident } = this;
    const code = slackErrorCode(error);
    this.problems.push(`I could not ${step}: ${describeSlackError(error)}`);
    deps.logger.warn({ incident: incident.number, step, error: code }, 'swarm setup step failed');
    const event = await store.appendEvent(deps.db, {
      incidentId: incident.id,
      at: deps.clock.now(),
      actor: 'tandem',
      kind: 'slack_error',
      text: `Could not ${step}: ${code}`,
      data: { step, error: code },
    });
    this.firstProblemEvent ??= event.id;
  }
}

/** Invites everyone it can; returns who could not be invited and why (every one of them, when the whole call failed). */
export async function inviteToChannel(
  client: WebClient,
  botUserId: string,
  channel: string,
  people: string[],
): Promise<Array<{ user: string; error: unknown }>> {
  const users = [...new Set(people)].filter((user) => user !== botUserId && isSlackUserId(user));
  if (users.length === 0) return [];
  const perUser = (errors: unknown) =>
    (Array.isArray(errors) ? errors : [])
      .filter((entry): entry is { user: string; error: string } => typeof entry?.user === 'string')
      .filter((entry) => entry.error !== 'already_in_channel')
      .map((entry) => ({ user: entry.user, error: { code: 'slack_webapi_platform_error', data: { error: entry.error } } }));
  try {
    const result = await client.conversations.invite({ channel, users: users.join(','), force: true });
    return perUser((result as { errors?: unknown }).errors);
  } catch (error) {
    const failures = perUser((error as { data?: { errors?: unknown } }).data?.errors);
    if (failures.length > 0) return failures;
    if (slackErrorCode(error) === 'already_in_channel') return [];
    return users.map((user) => ({ user, error }));
  }
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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: IncidentDeps,
    private readonly options: SwarmSetupWorkerOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle()
      .catch((error) => this.deps.logger.error({ err: error }, 'swarm set-up run failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once no set-up is due (those waiting for a retry time stay pending). */
  async drain(): Promise<void> {
    await this.running;
    await this.runUntilIdle();
  }

  /** Claims nothing more; set-ups in hand stop at their next step and hand their lease back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async runUntilIdle(): Promise<void> {
    while (!this.stopped && !this.deps.shutdown.aborted) {
      const claimed = await claimDue(this.deps, this.options.batchSize ?? 4);
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
    await enqueue(this.deps.db, this.deps.clock, [
      {
        topic: setupProblemsTopic,
        ref: incident.id,
        method: 'chat.postMessage',
        args: { channel: incident.declaredBy, ...declaredReply(incident, report), unfurl_links: false },
        dedupKey: `incident:${incident.id}:setup-problems:${firstProblemEvent}`,
      },
    ]);
    this.deps.outbox.kick();
  }
}
