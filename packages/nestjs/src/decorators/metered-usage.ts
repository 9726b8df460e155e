/** One `@Metered()` declaration: `quantity` units of `dimension` per request the handler answers. */
export interface MeteredUsage {
  readonly dimension: string;
  readonly quantity: number;
}
