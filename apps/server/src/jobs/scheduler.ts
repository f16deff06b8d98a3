export interface ScheduledTask {
  id: string;
  intervalMs: number;
  run: () => Promise<unknown>;
}

interface TaskState {
  task: ScheduledTask;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

/**
 * Runs background tasks: each once at start, then `intervalMs` after the previous run ended,
 * so runs of one task never overlap and a slow run delays the next instead of piling up.
 * A failing run is logged and the schedule goes on.
 */
export class Scheduler {
  private readonly tasks = new Map<string, TaskState>();
  private stopped = false;

  constructor(private readonly logger: { error(obj: object, msg: string): void }) {}

  add(task: ScheduledTask): void {
    if (this.tasks.has(task.id)) throw new Error(`Task ${task.id} is already scheduled`);
    if (!Number.isFinite(task.intervalMs) || task.intervalMs <= 0) {
      throw new Error(`Task ${task.id} needs a positive interval`);
    }
    this.tasks.set(task.id, { task });
  }

  start(): void {
    for (const state of this.tasks.values()) this.runNow(state);
  }

  /** No new runs; waits for the ones in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Array<Promise<void>> = [];
    for (const state of this.tasks.values()) {
      clearTimeout(state.timer);
      if (state.running) running.push(state.running);
    }
    await Promise.all(running);
  }

  private runNow(state: TaskState): void {
    if (this.stopped) return;
    state.running = state.task
      .run()
      .then(
        () => undefined,
        (error: unknown) => this.logger.error({ err: error, task: state.task.id }, 'background task failed'),
      )
      .finally(() => {
        state.running = undefined;
        if (this.stopped) return;
        state.timer = setTimeout(() => this.runNow(state), state.task.intervalMs);
        state.timer.unref();
      });
  }
}
