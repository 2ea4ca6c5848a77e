import type { WebClient } from '@slack/web-api';
import type { BackgroundWork } from '../background';
import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import type { DomainEvents } from '../events';
import type { Logger } from '../log';
import type { OutboxWorker } from '../slack/outbox';
import type { Clock } from '../time';

/** What the incident use cases are given by module.ts. */
export interface IncidentDeps {
  db: Database;
  background: BackgroundWork;
  events: DomainEvents;
  clock: Clock;
  catalog: Catalog;
  /** Interactive Web API client: waits out 429s and retries, for calls whose answer we need now. */
  slack: WebClient;
  outbox: OutboxWorker;
  /** Rejects 429s instead of sleeping and never retries: swarm set-up records failures and retries durably. */
  durableSlack: WebClient;
  /** Aborted when the process stops: swarm set-up hands its lease back between steps. */
  shutdown: AbortSignal;
  logger: Logger;
  timeZone: string;
  botUserId: string;
}
