import { FakeSlack, type WebApiAnswer } from '../fake-slack';

type Json = Record<string, unknown>;

/** The calls a loaded Slack answers with 429: posting and channel set-up, which Tandem must wait out. */
const methodsLimitedUnderLoad = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'conversations.create', 'conversations.invite', 'pins.add']);
/** Seconds Slack asks to wait in Retry-After; short, so the page stays usable while showing the effect. */
const retryAfterSeconds = 1;

export interface LoadState {
  enabled: boolean;
  /** Calls answered with 429 since the sandbox started. */
  rateLimited: number;
}

/**
 * The browser sandbox's workspace: the stand-in Slack, plus what a person watching
 * it needs. It tells the page when anything changed, remembers when each message
 * arrived (the stand-in's `ts` values count from a fixed epoch, not the wall clock),
 * and can play a Slack under load.
 */
export class LiveWorkspace extends FakeSlack {
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;
  private readonly arrivals = new Map<string, Date>();
  private load = { enabled: false, callsSeen: 0, rateLimited: 0 };

  override handle(method: string, args: Json, authorization: string | undefined): WebApiAnswer {
    if (this.load.enabled && methodsLimitedUnderLoad.has(method)) {
      this.load.callsSeen += 1;
      // Every other call: enough to make Tandem wait and retry, not so much that nothing gets through.
      if (this.load.callsSeen % 2 === 0) {
        this.load.rateLimited += 1;
        this.failNext(method, { rateLimitedFor: retryAfterSeconds });
      }
    }
    const answer = super.handle(method, args, authorization);
    this.changed();
    return answer;
  }

  override handleResponseUrl(id: string, body: Json): WebApiAnswer {
    const answer = super.handleResponseUrl(id, body);
    this.changed();
    return answer;
  }

  /** Calls `listener` after the workspace changed, once per burst of changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records arrival times now and tells listeners on the next turn of the event loop. */
  changed(): void {
    const now = new Date();
    for (const message of [...this.messages, ...this.ephemerals]) {
      if (!this.arrivals.has(message.ts)) this.arrivals.set(message.ts, now);
    }
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) listener();
    });
  }

  arrivedAt(ts: string): Date | undefined {
    return this.arrivals.get(ts);
  }

  simulateLoad(enabled: boolean): void {
    this.load.enabled = enabled;
    this.changed();
  }

  get loadState(): LoadState {
    return { enabled: this.load.enabled, rateLimited: this.load.rateLimited };
  }
}
