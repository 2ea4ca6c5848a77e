import type { WebClient } from '@slack/web-api';
import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import type { DomainEvents } from '../events';
import type { Logger } from '../log';
import type { OutboxWorker } from '../slack/outbox';
import type { Clock } from '../time';
import type { DecisionFeed } from './decisions';

/** What the change use cases are given: the module context and the feed of decisions. */
export interface ChangeDeps {
  db: Database;
  events: DomainEvents;
  clock: Clock;
  catalog: Catalog;
  slack: WebClient;
  outbox: OutboxWorker;
  logger: Logger;
  timeZone: string;
  decisions: DecisionFeed;
}
