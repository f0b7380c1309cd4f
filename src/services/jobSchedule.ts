import type { Logger } from '../logger.js';
import { logFailure } from './failureLog.js';

/** Work besides delivering: taking in the outbox, sending notifications, housekeeping. */
export interface BackgroundJob {
  name: string;
  /** How long to wait after one run before the next. */
  intervalMs: number;
  run(): Promise<unknown>;
  /** Cuts a run in progress short when the process stops (an e-mail in flight is retried later). */
  interrupt?(): void;
}

/**
 * Runs each job on its own timer, never on the delivery path: a hanging SMTP
 * server delays e-mails, not deliveries, and not the outbox. A job never
 * overlaps itself; a failing run is logged and the job runs again later.
 */
export class JobSchedule {
  private stopping = false;
  private readonly sleeping = new Set<() => void>();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly jobs: BackgroundJob[],
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.loops.length > 0) return;
    this.loops = this.jobs.map((job) => this.loop(job));
  }

  /** Lets the run in progress of each job finish, then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.sleeping) wake();
    for (const job of this.jobs) job.interrupt?.();
    await Promise.all(this.loops);
  }

  /** Every job once, one after the other: a cron pass. */
  async runAll(): Promise<void> {
    for (const job of this.jobs) await this.runSafely(job);
  }

  private async loop(job: BackgroundJob): Promise<void> {
    while (!this.stopping) {
      await this.runSafely(job);
      if (!this.stopping) await this.sleep(job.intervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }

  private async runSafely(job: BackgroundJob): Promise<void> {
    try {
      await job.run();
    } catch (error) {
      logFailure(this.log, error, { job: job.name }, 'background job failed');
    }
  }
}
