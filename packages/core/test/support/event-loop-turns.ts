/**
 * Runs `work` and counts the turns the event loop made before it settled: a setImmediate callback that re-arms
 * itself runs once per turn, so work done in one synchronous step counts 0 and work that yields between N steps
 * counts about N - 1. It measures how work is sliced, not how long it takes.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let settled = false;
  const tick = (): void => {
    if (settled) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const value = await work();
    return { value, turns };
  } finally {
    settled = true;
  }
}
