/**
 * Concurrent reads of one key share one DynamoDB read. The engine reads a tenant's customer on the requests that
 * find its cached answer expired, every request of that tenant until the first read answers: on DynamoDB each
 * read is a few calls, so those requests share the read under way instead of each making their own.
 *
 * A read joins one under way only if no write of this store began or ended since that read started: a read
 * started after a write of this store completed always reads DynamoDB after it. Each caller gets its own copy.
 */
export class SharedReads<T> {
  private readonly underWay = new Map<string, { readonly epoch: number; readonly answer: Promise<T> }>();
  /** Moves when a write begins and when it ends: a read started in another epoch may not see the write. */
  private epoch = 0;

  read(key: string, read: () => Promise<T>): Promise<T> {
    const shared = this.underWay.get(key);
    if (shared !== undefined && shared.epoch === this.epoch) return shared.answer.then((value) => structuredClone(value));
    let answer: Promise<T>;
    try {
      answer = read();
    } catch (error) {
      answer = Promise.reject(error);
    }
    const entry = { epoch: this.epoch, answer };
    this.underWay.set(key, entry);
    const done = (): void => {
      if (this.underWay.get(key) === entry) this.underWay.delete(key);
    };
    answer.then(done, done);
    return answer;
  }

  /** Runs a write: reads started before it ends are joined by no read started after. */
  async writing<R>(write: () => Promise<R>): Promise<R> {
    this.epoch++;
    try {
      return await write();
    } finally {
      this.epoch++;
    }
  }
}
