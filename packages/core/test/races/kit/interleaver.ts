/**
 * What the race runs need from a scheduler: fast-check's `fc.scheduler()` in properties, a ReplayScheduler in the
 * regression tests that replay a shrunk counterexample's order.
 */
export interface Interleaver {
  schedule<T>(task: Promise<T>, label?: string): Promise<T>;
  waitFor<T>(task: Promise<T>): Promise<T>;
  waitIdle(): Promise<void>;
}

/**
 * A task started only when the scheduler picks it: fast-check resolves a scheduled promise with
 * `Promise.resolve(task)`, which calls `then` at that moment, so the work runs then and the scheduler waits for it.
 */
export function lazyTask<T>(run: () => Promise<T>): Promise<T> {
  let started: Promise<T> | undefined;
  const thenable = {
    then<R1 = T, R2 = never>(onFulfilled?: (value: T) => R1 | PromiseLike<R1>, onRejected?: (reason: unknown) => R2 | PromiseLike<R2>) {
      started ??= run();
      return started.then(onFulfilled, onRejected);
    },
  };
  return thenable as unknown as Promise<T>;
}

interface Pending {
  readonly label: string;
  readonly trigger: () => Promise<void>;
}

const MICROTASK_TICKS = 50;

async function ticks(): Promise<void> {
  for (let i = 0; i < MICROTASK_TICKS; i++) await Promise.resolve();
}

/**
 * Replays an order of task labels taken from a fast-check scheduler report: at each step it runs the oldest waiting
 * task carrying the next expected label. When the engine no longer schedules that label (its calls changed), it runs
 * the oldest waiting task and keeps looking for the label at the next step, so a regression stays runnable.
 */
export class ReplayScheduler implements Interleaver {
  private readonly waiting: Pending[] = [];
  private readonly watchers = new Set<() => void>();
  private position = 0;
  /** Labels run, in order (for failure messages). */
  readonly ran: string[] = [];

  constructor(private readonly order: readonly string[]) {}

  schedule<T>(task: Promise<T>, label = ''): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        label,
        trigger: () =>
          Promise.resolve(task).then(
            (value) => resolve(value),
            (error: unknown) => reject(error),
          ),
      });
      for (const wake of [...this.watchers]) wake();
    });
  }

  async waitFor<T>(task: Promise<T>): Promise<T> {
    let done = false;
    const settled = task.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      await ticks();
      if (done) break;
      if (this.waiting.length > 0) {
        await this.runNext();
        continue;
      }
      await new Promise<void>((wake) => {
        const watcher = () => {
          this.watchers.delete(watcher);
          wake();
        };
        this.watchers.add(watcher);
        void settled.then(watcher);
      });
    }
    return task;
  }

  async waitIdle(): Promise<void> {
    for (;;) {
      await ticks();
      if (this.waiting.length === 0) return;
      await this.runNext();
    }
  }

  private async runNext(): Promise<void> {
    const expected = this.order[this.position];
    let index = expected === undefined ? -1 : this.waiting.findIndex((task) => task.label === expected);
    if (index >= 0) this.position += 1;
    else index = 0;
    const [task] = this.waiting.splice(index, 1);
    this.ran.push(task!.label);
    await task!.trigger();
  }
}

/** The labels of the tasks a fast-check scheduler ran, in order, from the `schedulerFor` report it prints. */
export function labelsOfReport(report: string): string[] {
  const labels: string[] = [];
  for (const line of report.split('\n')) {
    const match = /\[task\$\{\d+\}\] (?:promise|function|sequence)::(.*?) (?:resolved|rejected)(?: with value .*)?$/.exec(line.trim());
    if (match !== null) labels.push(match[1]!);
  }
  return labels;
}
