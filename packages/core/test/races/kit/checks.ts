import { isDeepStrictEqual, inspect } from 'node:util';

/** An invariant that does not hold, with what was expected and found, for fast-check's counterexample report. */
export class InvariantError extends Error {
  constructor(invariant: string, details: Record<string, unknown>) {
    super(`${invariant}\n${inspect(details, { depth: 6, breakLength: 120 })}`);
    this.name = 'InvariantError';
  }
}

export function holds(condition: boolean, invariant: string, details: Record<string, unknown> = {}): void {
  if (!condition) throw new InvariantError(invariant, details);
}

/** Plain data, whichever realm made it (rows of native drivers have another Array and Object prototype). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export function same(actual: unknown, expected: unknown, invariant: string, details: Record<string, unknown> = {}): void {
  if (!isDeepStrictEqual(plain(actual), plain(expected))) throw new InvariantError(invariant, { expected, actual, ...details });
}
