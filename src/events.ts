import { EventEmitter } from 'node:events';
import type { ChangeRow, IncidentRow, SprintFeatureRow } from './db/schema';

/** Something people may be looking at changed, after its transaction committed. */
export type DomainEvent =
  | { kind: 'change'; change: ChangeRow }
  | { kind: 'incident'; incident: IncidentRow }
  /** A sprint feature's status changed (incidents close the follow-up a `PRB-n` feature tracks). */
  | { kind: 'feature'; feature: SprintFeatureRow };

/**
 * In-process notifications between domains that must not depend on each other:
 * changes and incidents announce what changed; the App Home refreshes the people
 * who see it.
 */
export class DomainEvents {
  private readonly emitter = new EventEmitter();

  emit(event: DomainEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: DomainEvent) => void): void {
    this.emitter.on('event', listener);
  }
}
