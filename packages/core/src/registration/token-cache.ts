/** A bounded, time-limited map of token digests to their resolution, so a browser refresh costs no AWS call. */
export class TokenCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(digest: string, now: number): V | undefined {
    const entry = this.entries.get(digest);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry.value;
  }

  set(digest: string, value: V, now: number): void {
    this.entries.delete(digest);
    this.entries.set(digest, { value, expiresAt: now + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
