import type { WebClient } from '@slack/web-api';
import type { BackgroundWork } from '../background';
import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import type { DomainEvents } from '../events';
import type { Logger } from '../log';
import type { OutboxWorker } from '../slack/outbox';
import type { Clock } from '../time';

/** What the sprint use cases are built from (a part of the module context). */
export interface SprintDeps {
  db: Database;
  clock: Clock;
  catalog: Catalog;
  logger: Logger;
  outbox: OutboxWorker;
  events: DomainEvents;
  /** Interactive Web API client, for calls whose answer is needed now. */
  slack: WebClient;
  background: BackgroundWork;
  /** Time zone of digest schedules when neither the command nor the catalog names one. */
  timeZone: string;
}
