/** A TCP proxy whose network can stop carrying data (see black-hole.js). */
export interface BlackHole {
  /** The local port that forwards to the target. */
  readonly port: number;
  /** Every connection, open or new, stays open and forwards nothing either way. */
  blackHole(): void;
  /** New connections are forwarded again; stalled ones stay stalled. */
  heal(): void;
  shutdown(): Promise<void>;
}

export function startBlackHole(targetHost: string, targetPort: number): Promise<BlackHole>;
