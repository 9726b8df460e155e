/** Runs `work` for every item in order, at most `limit` at once; resolves when all are done. `work` handles its own failures (a rejection rejects the whole run). */
export async function eachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
