import type { MeterkitError } from '../../errors';

export interface RecentError {
  /** ISO 8601. */
  readonly at: string;
  readonly code: string;
  readonly awsException?: string;
  /** The message with license ARNs, account ids and long identifiers masked. */
  readonly message: string;
}

/** Hides what identifies a buyer: license ARNs, 12-digit account ids, long opaque ids (keeps their last 4 characters). */
export function maskMessage(message: string): string {
  return message
    .replace(/arn:aws[a-zA-Z-]*:[^\s"',)]+/g, (arn) => `arn:…${arn.slice(-4)}`)
    .replace(/\b\d{12}\b/g, (id) => `…${id.slice(-4)}`)
    .replace(/\b[A-Za-z0-9_-]{24,}\b/g, (id) => `…${id.slice(-4)}`);
}

/** The last `capacity` errors, newest first. */
export class RecentErrors {
  private readonly entries: RecentError[] = [];

  constructor(private readonly capacity: number) {}

  add(error: MeterkitError, at: number): void {
    if (this.capacity === 0) return;
    this.entries.unshift({
      at: new Date(at).toISOString(),
      code: error.code,
      ...(error.awsException === undefined ? {} : { awsException: error.awsException }),
      message: maskMessage(error.message),
    });
    this.entries.length = Math.min(this.entries.length, this.capacity);
  }

  list(): readonly RecentError[] {
    return [...this.entries];
  }
}
