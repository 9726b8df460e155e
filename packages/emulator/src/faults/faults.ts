/** Deterministic fault injection (seeded), plus a precise `failNext` queue for tests. */
import { AwsError, isKnownErrorName } from '../rules/errors';
import type { EmulatorFaults, FaultOptions } from '../types';
import { mulberry32 } from './prng';

export const DEFAULT_FAULTS: FaultOptions = {
  throttleRate: 0,
  serverErrorRate: 0,
  unprocessedRate: 0,
  latencyMs: 0,
  resetRate: 0,
  lostAnswerRate: 0,
};

/** What to do with a call before it is handled. */
export type FaultAction =
  | { kind: 'error'; error: AwsError }
  | { kind: 'reset' }
  | { kind: 'lost-answer'; how: 'error' | 'reset' };

const SPECIAL = ['reset', 'lost-answer', 'lost-answer-reset'];

export class Faults implements EmulatorFaults {
  private opts: FaultOptions;
  private rng: () => number;
  private readonly queue: Array<{ op: string; error: string; remaining: number }> = [];

  constructor(
    initial: Partial<FaultOptions> | undefined,
    private readonly seed: number,
  ) {
    this.opts = { ...DEFAULT_FAULTS, ...validate(initial ?? {}) };
    this.rng = mulberry32(seed);
  }

  set(f: Partial<FaultOptions>): void {
    this.opts = { ...this.opts, ...validate(f) };
  }

  /** Back to no faults, empty failNext queue, and the PRNG restarted from the seed. */
  reset(): void {
    this.opts = { ...DEFAULT_FAULTS };
    this.queue.length = 0;
    this.rng = mulberry32(this.seed);
  }

  current(): FaultOptions {
    return { ...this.opts };
  }

  failNext(op: string, error: string, count = 1): void {
    if (!SPECIAL.includes(error) && !isKnownErrorName(error) && !/^[A-Za-z]+$/.test(error))
      throw new TypeError(`failNext: unknown error '${error}'`);
    if (!Number.isInteger(count) || count < 1) throw new TypeError('failNext: count must be a positive integer');
    this.queue.push({ op, error, remaining: count });
  }

  latencyMs(): number {
    return this.opts.latencyMs;
  }

  /** Decide the fate of one API call. failNext entries win (exact operation first, then '*'), then the rates. */
  before(op: string): FaultAction | undefined {
    const entry = this.queue.find((e) => e.op === op) ?? this.queue.find((e) => e.op === '*');
    if (entry) {
      entry.remaining--;
      if (entry.remaining <= 0) this.queue.splice(this.queue.indexOf(entry), 1);
      if (entry.error === 'reset') return { kind: 'reset' };
      if (entry.error === 'lost-answer') return { kind: 'lost-answer', how: 'error' };
      if (entry.error === 'lost-answer-reset') return { kind: 'lost-answer', how: 'reset' };
      return { kind: 'error', error: new AwsError(entry.error, `Injected fault: ${entry.error}`) };
    }
    const o = this.opts;
    if (o.throttleRate > 0 && this.rng() < o.throttleRate) return { kind: 'error', error: new AwsError('ThrottlingException', 'Rate exceeded') };
    if (o.serverErrorRate > 0 && this.rng() < o.serverErrorRate)
      return { kind: 'error', error: new AwsError('InternalServiceErrorException', 'An internal error occurred') };
    if (o.resetRate > 0 && this.rng() < o.resetRate) return { kind: 'reset' };
    if (o.lostAnswerRate > 0 && this.rng() < o.lostAnswerRate) return { kind: 'lost-answer', how: this.rng() < 0.5 ? 'error' : 'reset' };
    return undefined;
  }

  /** Per BatchMeterUsage record: true → return it in UnprocessedRecords. */
  unprocessed(): boolean {
    return this.opts.unprocessedRate > 0 && this.rng() < this.opts.unprocessedRate;
  }
}

function validate(f: Partial<FaultOptions>): Partial<FaultOptions> {
  const out: Partial<FaultOptions> = {};
  for (const [k, v] of Object.entries(f) as Array<[keyof FaultOptions, number | undefined]>) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_FAULTS)) throw new TypeError(`faults: unknown option '${k}'`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (k !== 'latencyMs' && v > 1))
      throw new TypeError(`faults: ${k} must be ${k === 'latencyMs' ? 'a non-negative number' : 'a number from 0 to 1'}`);
    out[k] = v;
  }
  return out;
}
