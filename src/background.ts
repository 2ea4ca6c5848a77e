/**
 * Work that outlives the request that started it: listener work after a Slack ack,
 * swarm setup after an API answer, summary refreshes. Shutdown and tests wait for it.
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `work` without blocking the caller; failures go to the error callback. */
  run(work: () => Promise<unknown>): void {
    this.track(Promise.resolve().then(work)).catch(this.onError);
  }

  /** Tracks a promise the caller still awaits itself. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Resolves when everything started so far, and anything it started, has settled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
  }
}
