import type { Database } from './db/client';
import type { DomainEvent, DomainEvents } from './events';
import { enqueue, type OutboxMessage, type OutboxWorker } from './slack/outbox';
import type { Clock } from './time';

export interface UnitOfWorkDeps {
  db: Database;
  clock: Clock;
  outbox: OutboxWorker;
  events: DomainEvents;
}

/** What a use case does inside its transaction: write, queue messages, note events. */
export interface Work {
  tx: Database;
  /** Queues Slack calls in the same transaction, so they are sent if and only if it commits. */
  send(messages: OutboxMessage[]): Promise<void>;
  /** Announced to the other domains once the transaction has committed, never before. */
  emit(event: DomainEvent): void;
}

/**
 * One unit of work: the transaction, then the outbox is woken for what it queued and
 * the events it collected are emitted. Nothing is announced for a transaction that
 * rolled back, and nobody has to remember to kick the outbox.
 */
export async function unitOfWork<T>(deps: UnitOfWorkDeps, run: (work: Work) => Promise<T>): Promise<T> {
  const events: DomainEvent[] = [];
  let queued = false;
  const result = await deps.db.transaction((tx) =>
    run({
      tx,
      async send(messages) {
        if (messages.length === 0) return;
        queued = true;
        await enqueue(tx, deps.clock, messages);
      },
      emit: (event) => void events.push(event),
    }),
  );
  if (queued) deps.outbox.kick();
  for (const event of events) deps.events.emit(event);
  return result;
}
