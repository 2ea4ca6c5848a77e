import { EventEmitter } from 'node:events';
import type { ChangeRow, IncidentRow } from './db/schema';

/** Something people may be looking at changed, after its transaction committed. */
export type DomainEvent = { kind: 'change'; change: ChangeRow } | { kind: 'incident'; incident: IncidentRow };

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
