import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log';

/** One recurring job. Jobs that must run once per period across instances claim it in the database themselves. */
export interface Schedule {
  name: string;
  cron: string;
  timeZone: string;
  run: () => Promise<void>;
  /** Also run once at start-up, so a period missed while no instance ran is caught up at once. */
  runAtStart?: boolean;
}

/** Ticks every schedule with node-cron; a tick never overlaps the previous one of the same job. */
export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly schedules: Schedule[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.tasks = this.schedules.map((schedule) =>
      cron.schedule(schedule.cron, () => this.tick(schedule), {
        name: schedule.name,
        timezone: schedule.timeZone,
        noOverlap: true,
        suppressMissedWarning: true,
      }),
    );
    for (const schedule of this.schedules) if (schedule.runAtStart) void this.tick(schedule);
  }

  /** Runs a job now, as a tick would, but lets its failure through: for operations and tests. */
  async run(name: string): Promise<void> {
    const schedule = this.schedules.find((candidate) => candidate.name === name);
    if (!schedule) throw new Error(`no scheduled job named ${name}`);
    await this.track(schedule.run());
  }

  /** Resolves when the jobs running now have finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Stops ticking and waits for jobs already running. */
  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task.destroy()));
    this.tasks = [];
    await this.idle();
  }

  private async tick(schedule: Schedule): Promise<void> {
    await this.track(schedule.run()).catch((error) => this.logger.error({ err: error, job: schedule.name }, 'scheduled job failed'));
  }

  private async track(run: Promise<void>): Promise<void> {
    this.running.add(run);
    try {
      await run;
    } finally {
      this.running.delete(run);
    }
  }
}
