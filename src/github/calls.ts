import type { Database } from '../db/client';
import type { GitHubCallRow } from '../db/schema';
import { leaseMs, whileRenewing } from '../db/lease';
import { PollingLoop } from '../jobs/polling-loop';
import type { Logger } from '../log';
import type { Clock } from '../time';
import type { GitHubApp } from './client';
import { classifyCall } from './model';
import * as store from './store';

/**
 * Sends the queued calls to GitHub (decisions and status comments of gates). Any
 * number of instances run one: calls are claimed with a lease, one gate's calls in
 * order; 5xx, 429 and network errors are retried with backoff, 422 ends a call.
 */
export class GitHubCallWorker {
  private readonly loop: PollingLoop;
  private readonly inHand = new Set<number>();

  constructor(
    private readonly deps: { db: Database; clock: Clock; logger: Logger; github: GitHubApp },
    options: { pollIntervalMs?: number; concurrency?: number } = {},
  ) {
    this.concurrency = options.concurrency ?? 8;
    this.loop = new PollingLoop(() => this.runUntilIdle(), {
      intervalMs: options.pollIntervalMs ?? 1000,
      onError: (error) => deps.logger.error({ err: error }, 'github calls run failed'),
    });
  }

  private readonly concurrency: number;

  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  drain(): Promise<void> {
    return this.loop.drain();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async runUntilIdle(): Promise<void> {
    const { db, clock, logger } = this.deps;
    const renew = () => store.renewCallLeases(db, [...this.inHand], new Date(clock.now().getTime() + leaseMs));
    await whileRenewing(renew, (error) => logger.warn({ err: error }, 'could not renew github call leases'), async () => {
      while (!this.loop.stopped) {
        const now = clock.now();
        const calls = await store.claimDueCalls(db, now, new Date(now.getTime() + leaseMs), 50);
        if (calls.length === 0) return;
        for (const call of calls) this.inHand.add(call.id);
        const queue = [...calls];
        try {
          await Promise.all(
            Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
              for (let call = queue.shift(); call; call = queue.shift()) await this.send(call);
            }),
          );
        } finally {
          for (const call of calls) this.inHand.delete(call.id);
        }
      }
    });
  }

  private async send(call: GitHubCallRow): Promise<void> {
    const { db, clock, logger, github } = this.deps;
    const answer = await github.request(call.installationId, call.method, call.path, call.body);
    const outcome = classifyCall(answer.status, call.attempts, answer.message, answer.retryAfterSeconds);
    const now = clock.now();
    switch (outcome.kind) {
      case 'sent':
        return store.settleCall(db, call.id, { status: 'sent', at: now });
      case 'settled':
        logger.info({ call: call.id, path: call.path, kind: call.kind }, 'github says the run was already decided');
        return store.settleCall(db, call.id, { status: 'settled', at: now, error: outcome.note });
      case 'retry':
        logger.warn({ call: call.id, path: call.path, error: outcome.error, retryInMs: outcome.afterMs }, 'github call will be retried');
        return store.settleCall(db, call.id, { status: 'pending', notBefore: new Date(now.getTime() + outcome.afterMs), error: outcome.error });
      case 'failed':
        logger.error({ call: call.id, path: call.path, error: outcome.error }, 'github call failed');
        return store.settleCall(db, call.id, { status: 'failed', at: now, error: outcome.error });
    }
  }
}
