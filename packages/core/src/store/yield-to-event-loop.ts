/** Lets timers, I/O and requests run between two slices of background work (persist chunks, claim freezes). */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
