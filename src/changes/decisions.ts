import { EventEmitter } from 'node:events';
import type { Database, DatabaseHandle } from '../db/client';
import { notify } from './store';

const channel = 'tandem_change_decided';

/**
 * Wakes pipelines waiting on a change (GET /changes/:id?wait=N) when it is decided,
 * in whichever instance the decision happened. A decision sends a NOTIFY in its
 * transaction (delivered on commit); each instance listens on one connection and
 * wakes its waiters in memory, so a waiting request holds no database connection.
 */
export class DecisionFeed {
  private readonly waiters = new EventEmitter().setMaxListeners(0);
  private stopListening: (() => Promise<void>) | undefined;

  constructor(private readonly database: DatabaseHandle) {}

  async start(): Promise<void> {
    this.stopListening = await this.database.listen(channel, (changeId) => this.waiters.emit(changeId));
  }

  async stop(): Promise<void> {
    const stop = this.stopListening;
    this.stopListening = undefined;
    // The connection may already be gone (the database went away); there is nothing left to unsubscribe then.
    await stop?.().catch(() => {});
  }

  /** Queues the wake-up for commit; call inside the transaction that decides. */
  async announce(tx: Database, changeId: string): Promise<void> {
    await notify(tx, channel, changeId);
  }

  /**
   * Resolves when the change may have been decided, after `timeoutMs`, or when
   * `signal` aborts. Subscribe before reading the change, then read, so a decision
   * between the two is not missed.
   */
  subscribe(changeId: string, timeoutMs: number, signal: AbortSignal): { decided: Promise<void>; cancel: () => void } {
    let cancel = () => {};
    const decided = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.off(changeId, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.on(changeId, done);
      signal.addEventListener('abort', done, { once: true });
      cancel = done;
    });
    return { decided, cancel };
  }
}
