import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ApiRoute } from './api/router';
import type { BackgroundWork } from './background';
import type { Catalog } from './catalog';
import type { Database, DatabaseHandle } from './db/client';
import type { DomainEvents } from './events';
import type { Schedule } from './jobs/scheduler';
import type { Logger } from './log';
import type { ReadOnlyCommands } from './slack/deliveries';
import type { OutboxTopicHandler, OutboxWorker } from './slack/outbox';
import type { Clock } from './time';

/** What every domain is built from; the composition root makes one and hands it to each. */
export interface ModuleContext {
  db: Database;
  /** The open database itself, for the domains that LISTEN on it. */
  database: DatabaseHandle;
  clock: Clock;
  catalog: Catalog;
  logger: Logger;
  background: BackgroundWork;
  outbox: OutboxWorker;
  events: DomainEvents;
  /** Interactive Web API client: waits out 429s and retries, for calls whose answer is needed now. */
  slack: WebClient;
  /** Rejects rate-limited calls instead of sleeping: for durable work that reschedules itself. */
  durableSlack: WebClient;
  /** Aborted on shutdown: long-polls answer, durable work stops at its next step. */
  shutdown: AbortSignal;
  timeZone: string;
  botUserId: string;
}

/**
 * The one front door of a domain: what the composition root wires, so adding a
 * listener, a route, a message kind or a job touches only the domain's own files.
 */
export interface DomainModule {
  /** Slack commands, actions, views, shortcuts and events. */
  register?(app: App): void;
  /** Which texts of this domain's slash commands only read: they need no delivery claim, since a repeat changes nothing. */
  readOnlyCommands?: ReadOnlyCommands;
  /** REST routes under /api/v1. */
  routes?: ApiRoute[];
  /** What happens after this domain's outbox messages are sent or given up on. */
  outboxHandlers?: Array<[topic: string, handler: OutboxTopicHandler]>;
  /** Recurring jobs; each claims its period in the database. */
  schedules?: Schedule[];
  /** Work the domain runs beside the request path (a listener on the database), started before serving. */
  start?(): Promise<void>;
  /** Resolves when the domain's own workers have nothing due (tests and shutdown wait on it). */
  idle?(): Promise<void>;
  stop?(): Promise<void>;
}
