import type { WebClient } from '@slack/web-api';
import { and, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client';
import { type OutboxRow, slackOutbox } from '../db/schema';
import type { Logger } from '../log';
import type { Clock } from '../time';
import { leaseFree, leaseMs, whileRenewing } from '../db/lease';
import { PollingLoop } from '../jobs/polling-loop';
import { classifyDeliveryError, type DeliveryOutcome } from './delivery-errors';
import { WorkspacePause } from './workspace-pause';

/** A Slack Web API call to make after the transaction that wrote it commits. */
export interface OutboxMessage {
  topic: string;
  /** The record the message is about, handed back to the topic's handler. */
  ref?: string;
  method: string;
  args: Record<string, unknown>;
  /** When set, a second message with the same key is dropped. */
  dedupKey?: string;
}

/** Told how a topic's messages went, so the domain can record it (a ts to update later, a channel to disable). */
export interface OutboxTopicHandler {
  sent?(row: OutboxRow, response: Record<string, unknown>): Promise<void>;
  failed?(row: OutboxRow, error: string): Promise<void>;
}

export async function enqueue(db: Database, clock: Clock, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const now = clock.now();
  await db
    .insert(slackOutbox)
    .values(
      messages.map((message) => ({
        topic: message.topic,
        ref: message.ref ?? null,
        method: message.method,
        args: message.args,
        channel: typeof message.args.channel === 'string' ? message.args.channel : null,
        dedupKey: message.dedupKey ?? null,
        notBefore: now,
        createdAt: now,
      })),
    )
    .onConflictDoNothing({ target: slackOutbox.dedupKey });
}

/** Marking a row sent is retried this often before its lease is left to run out (then it is sent again). */
const markSentAttempts = 3;

export interface OutboxWorkerOptions {
  db: Database;
  /** A client that rejects rate-limited calls instead of sleeping, so one busy channel blocks nothing else. */
  client: WebClient;
  clock: Clock;
  logger: Logger;
  pollIntervalMs?: number;
  batchSize?: number;
  /** Calls in flight at once. */
  concurrency?: number;
}

/**
 * Sends the outbox. Any number of instances may run one: rows are claimed with
 * `FOR UPDATE SKIP LOCKED` and a short lease, renewed while this instance still
 * holds them, so a crashed instance's rows are taken over within seconds.
 */
export class OutboxWorker {
  private readonly handlers = new Map<string, OutboxTopicHandler>();
  private readonly loop: PollingLoop;
  private readonly workspacePause = new WorkspacePause();
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Rows claimed and not yet settled, whose leases this instance renews. */
  private readonly inHand = new Set<number>();

  constructor(private readonly options: OutboxWorkerOptions) {
    this.loop = new PollingLoop(() => this.runUntilIdle(), {
      intervalMs: options.pollIntervalMs ?? 1000,
      onError: (error) => options.logger.error({ err: error }, 'outbox run failed'),
    });
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  on(topic: string, handler: OutboxTopicHandler): void {
    this.handlers.set(topic, handler);
  }

  start(): void {
    this.loop.start();
  }

  /** Sends what is due now; called after a commit that enqueued something. */
  kick(): void {
    this.loop.kick();
  }

  /** Resolves once nothing due is left to send (messages waiting for a retry time stay queued); a topic handler's own messages too. */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  /**
   * Claims nothing more and finishes the calls already made; rows claimed but not
   * yet sent are handed back at once, for the next instance to send in order.
   */
  async stop(): Promise<void> {
    await this.loop.stop();
    clearTimeout(this.resumeTimer);
  }

  private async runUntilIdle(): Promise<void> {
    const renew = () => this.renewLeases();
    const onRenewalError = (error: unknown) => this.options.logger.warn({ err: error }, 'could not renew outbox leases');
    await whileRenewing(renew, onRenewalError, async () => {
      while (!this.stopped) {
        const rows = await this.claim();
        if (rows.length === 0) return;
        for (const row of rows) this.inHand.add(row.id);
        // One row per channel at most, so these can go out side by side.
        const queue = [...rows];
        const held: OutboxRow[] = [];
        const unsent: OutboxRow[] = [];
        const lanes = Array.from({ length: Math.min(this.options.concurrency ?? 8, queue.length) }, async () => {
          for (let row = queue.shift(); row; row = queue.shift()) {
            if (this.stopped) unsent.push(row);
            else if (this.workspacePause.pausedUntil(this.options.clock.now().getTime())) held.push(row);
            else await this.send(row);
          }
        });
        try {
          await Promise.all(lanes);
          await this.release(held);
          await this.handBack(unsent);
        } finally {
          for (const row of rows) this.inHand.delete(row.id);
        }
      }
    });
  }

  /** Keeps the leases of rows still in hand from running out while slow calls are answered. */
  private async renewLeases(): Promise<void> {
    if (this.inHand.size === 0) return;
    await this.options.db
      .update(slackOutbox)
      .set({ lockedUntil: new Date(this.options.clock.now().getTime() + leaseMs) })
      .where(and(inArray(slackOutbox.id, [...this.inHand]), eq(slackOutbox.status, 'pending'), isNotNull(slackOutbox.lockedUntil)));
  }

  /** Hands back rows claimed but not sent because the workspace is rate limited; they go first when it resumes. */
  private async release(rows: OutboxRow[]): Promise<void> {
    const resumeAt = this.workspacePause.pausedUntil(this.options.clock.now().getTime());
    if (rows.length === 0 || resumeAt === undefined) return;
    await this.options.db
      .update(slackOutbox)
      .set({ lockedUntil: null, notBefore: new Date(resumeAt), attempts: sql`${slackOutbox.attempts} - 1` })
      .where(inArray(slackOutbox.id, rows.map((row) => row.id)));
  }

  /** Rows claimed but never tried (the worker is stopping): free again now, their attempt not counted. */
  private async handBack(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.options.db
      .update(slackOutbox)
      .set({ lockedUntil: null, attempts: sql`${slackOutbox.attempts} - 1` })
      .where(inArray(slackOutbox.id, rows.map((row) => row.id)));
  }

  /**
   * Claims due rows that are the oldest pending row of their channel. A channel's
   * next message is not claimable until the one before it was sent or gave up, in
   * whichever instance holds it, so each channel sees its messages in order.
   */
  private async claim(): Promise<OutboxRow[]> {
    const { db, clock, batchSize = 50 } = this.options;
    const now = clock.now();
    if (this.workspacePause.pausedUntil(now.getTime())) return [];
    const head = alias(slackOutbox, 'head');
    const oldestPendingOfChannel = db
      .select({ id: sql`min(${head.id})` })
      .from(head)
      .where(and(eq(head.channel, slackOutbox.channel), eq(head.status, 'pending')));
    const due = db
      .select({ id: slackOutbox.id })
      .from(slackOutbox)
      .where(
        and(
          eq(slackOutbox.status, 'pending'),
          lte(slackOutbox.notBefore, now),
          leaseFree(slackOutbox.lockedUntil, now),
          or(isNull(slackOutbox.channel), eq(slackOutbox.id, oldestPendingOfChannel)),
        ),
      )
      .orderBy(slackOutbox.id)
      .limit(batchSize)
      .for('update', { skipLocked: true });
    const claimed = await db
      .update(slackOutbox)
      .set({ lockedUntil: new Date(now.getTime() + leaseMs), attempts: sql`${slackOutbox.attempts} + 1` })
      .where(inArray(slackOutbox.id, due))
      .returning();
    return claimed.sort((a, b) => a.id - b.id);
  }

  private async send(row: OutboxRow): Promise<void> {
    const { db, client, clock, logger } = this.options;
    const handler = this.handlers.get(row.topic);
    let outcome: DeliveryOutcome;
    try {
      const response = await client.apiCall(row.method, row.args);
      outcome = { kind: 'sent', response: pickResponse({ ...response }) };
    } catch (error) {
      outcome = classifyDeliveryError(error, row.attempts);
    }
    const now = clock.now();
    switch (outcome.kind) {
      case 'sent':
        await this.markSent(row, now, outcome.response);
        await this.notify(row, () => handler?.sent?.(row, outcome.response));
        return;
      case 'retry':
        logger.warn({ outbox: row.id, method: row.method, error: outcome.error, retryInMs: outcome.afterMs }, 'slack call will be retried');
        if (outcome.error === 'ratelimited') this.pauseIfWorkspaceLimited(row, now, outcome.afterMs);
        await db
          .update(slackOutbox)
          .set({ notBefore: new Date(now.getTime() + outcome.afterMs), lockedUntil: null, lastError: outcome.error })
          .where(eq(slackOutbox.id, row.id));
        return;
      case 'failed':
        logger.error({ outbox: row.id, method: row.method, topic: row.topic, error: outcome.error }, 'slack call failed');
        await db
          .update(slackOutbox)
          .set({ status: 'failed', lockedUntil: null, lastError: outcome.error })
          .where(eq(slackOutbox.id, row.id));
        // A failed call does not hold back the channel: the next message may well succeed.
        await this.notify(row, () => handler?.failed?.(row, outcome.error));
        return;
    }
  }

  /**
   * Slack has the message now; until this UPDATE commits, a crash means it is sent
   * again once the lease runs out. So it is the only statement between Slack's
   * answer and the row's `sent`, retried briefly if the database hiccups.
   */
  private async markSent(row: OutboxRow, now: Date, response: Record<string, unknown>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.options.db
          .update(slackOutbox)
          .set({ status: 'sent', sentAt: now, response, lockedUntil: null, lastError: null })
          .where(eq(slackOutbox.id, row.id));
        return;
      } catch (error) {
        if (attempt >= markSentAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private pauseIfWorkspaceLimited(row: OutboxRow, now: Date, retryAfterMs: number): void {
    const pauseMs = this.workspacePause.rateLimited(row.channel ?? `row-${row.id}`, now.getTime(), retryAfterMs);
    if (pauseMs === 0) return;
    this.options.logger.warn({ pauseMs }, 'slack rate limits the workspace; pausing the outbox');
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.kick(), pauseMs);
    this.resumeTimer.unref();
  }

  private async notify(row: OutboxRow, callback: () => Promise<void> | undefined): Promise<void> {
    try {
      await callback();
    } catch (error) {
      this.options.logger.error({ err: error, outbox: row.id, topic: row.topic }, 'outbox handler failed');
    }
  }
}

/** Keeps what later steps need from Slack's answer (where the message landed), not the whole payload. */
function pickResponse(response: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of ['channel', 'ts', 'id']) if (response[key] !== undefined) picked[key] = response[key];
  return picked;
}
