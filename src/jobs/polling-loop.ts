/**
 * The run loop of a database-backed worker (the outbox, swarm set-ups): a run when
 * kicked and every interval, never two at once, and one more when kicked during a
 * run, so work committed meanwhile is not left for the next tick.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private halted = false;

  constructor(
    private readonly runUntilIdle: () => Promise<void>,
    private readonly options: { intervalMs: number; onError: (error: unknown) => void },
  ) {}

  /** True once stop() was called: a run in progress should finish what it holds and claim nothing more. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    this.halted = false;
    this.timer = setInterval(() => this.kick(), this.options.intervalMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once a run found nothing due, including work that a run's own callbacks queued. */
  async drain(): Promise<void> {
    do {
      this.again = false;
      await this.running;
      await this.runUntilIdle();
      await this.running;
    } while (this.again);
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearInterval(this.timer);
    await this.running;
  }
}
