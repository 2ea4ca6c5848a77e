import type { WebClient } from '@slack/web-api';
import { findService, respondersOf } from '../catalog';
import type { IncidentRow } from '../db/schema';
import { classifyDeliveryError } from '../slack/delivery-errors';
import { describeSlackError, slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import { unitOfWork } from '../unit-of-work';
import { type SetupReport, summaryMessage } from './blocks';
import { inviteToChannel } from './channel-invites';
import { rolesOf } from './role-holders';
import type { IncidentDeps } from './deps';
import { noticesFor } from './messaging';
import { incidentChannelName } from './model';
import { recentChangesNotice } from './recent-changes';
import * as store from './store';

/**
 * The steps of one swarm set-up: channel (named, or adopted when Slack made it but
 * the answer was lost), people, pinned summary, "declared" notices. Each step records
 * its result before the next one starts and checks what is recorded before calling
 * Slack, so a resumed set-up repeats nothing that succeeded. swarm.ts claims and runs them.
 */

/** `inc-…-2`, `inc-…-3`, … when someone else holds the name. */
const maxChannelNameAttempts = 10;
/** conversations.list pages read to find a channel Slack made but whose answer was lost. */
const maxListPages = 20;
/** How long to wait when Slack says it made a channel but names no id. */
const missingChannelIdRetryMs = 1_000;

/** A step Slack refused for a reason that may pass (429, 5xx, network): the whole set-up waits and resumes. */
export class RetryLater extends Error {
  constructor(
    readonly afterMs: number,
    readonly reason: string,
  ) {
    super(`retry in ${afterMs} ms: ${reason}`);
  }
}

/** Shutdown arrived between two steps: the lease is handed back and another instance resumes. */
export class Interrupted extends Error {}

/** One run over a claimed set-up: the steps it still needs, and what Slack refused for good on the way. */
export class SetupRun {
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
    const recent = await recentChangesNotice(deps, incident);
    await unitOfWork(deps, ({ send }) =>
      send([...noticesFor(incident, service, { kind: 'declared' }, incident.declaredBy, 'declared', false), ...(recent ? [recent] : [])]),
    );
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
        if (!id) throw new RetryLater(missingChannelIdRetryMs, 'conversations.create answered without a channel id');
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
    const roles = await rolesOf(this.deps, this.incident);
    const posted = await this.call(() => this.client.chat.postMessage({ channel, ...summaryMessage(this.incident, roles) }));
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
