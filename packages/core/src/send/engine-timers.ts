export interface TimedWork {
  readonly persist: () => Promise<void>;
  readonly persistIntervalMs: number;
  readonly flush: () => Promise<unknown>;
  readonly flushIntervalMs: number;
  /** The contract entitlement reads due; undefined when no product is a contract. */
  readonly refreshEntitlements?: () => Promise<unknown>;
  readonly refreshIntervalMs: number;
  /** Reports a failed flush or read (a failed persist keeps its usage in memory and says so in status()). */
  readonly report: (cause: unknown) => void;
}

/** Starts the engine's unref'd timers and adds them to `timers`, which close() clears. */
export function startTimers(timers: NodeJS.Timeout[], work: TimedWork): void {
  const persist = setInterval(() => void work.persist().catch(() => undefined), work.persistIntervalMs);
  const flush = setInterval(() => void work.flush().catch((cause) => work.report(cause)), work.flushIntervalMs);
  persist.unref();
  flush.unref();
  timers.push(persist, flush);
  const refreshEntitlements = work.refreshEntitlements;
  if (refreshEntitlements !== undefined) {
    const refresh = setInterval(() => void refreshEntitlements().catch((cause) => work.report(cause)), work.refreshIntervalMs);
    refresh.unref();
    timers.push(refresh);
  }
}
