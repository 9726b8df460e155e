import { ErrorCodes, MeterkitError } from '../errors';
import { createMetering, type Metering } from '../metering';
import type { MeteringOptions } from '../options';
import type { FlushReport } from '../send/flush-report';

/** The part of a Lambda context the flush handler reads. */
export interface FlushContext {
  getRemainingTimeInMillis(): number;
}

export interface FlushHandlerOptions {
  /** Time kept free at the end of the invocation to hand unsent records back. Default 10 000 ms. */
  readonly marginMs?: number;
}

/**
 * A Lambda handler for a schedule (EventBridge rule, e.g. every 5 minutes) that sends due hours within the
 * invocation's time budget: no batch starts later than `marginMs` before the invocation ends, and records it
 * claimed but could not send are handed back for the next run.
 *
 * `metering` is called once per execution environment, on the first invocation: warm invocations reuse it.
 * Options get `autoStart: false` unless they say otherwise: a frozen Lambda has no use for timers.
 *
 * @example
 * export const handler = createFlushHandler(() => ({ products, store: new DynamoDbStore({ tableName }) }));
 */
export function createFlushHandler(
  metering: () => Metering | MeteringOptions | Promise<Metering | MeteringOptions>,
  options: FlushHandlerOptions = {},
): (event: unknown, context: FlushContext) => Promise<FlushReport> {
  const marginMs = options.marginMs ?? 10_000;
  if (typeof metering !== 'function') throw new MeterkitError(ErrorCodes.OPTIONS, 'createFlushHandler() needs a function returning a Metering or its options.');
  if (typeof marginMs !== 'number' || !Number.isInteger(marginMs) || marginMs < 0 || marginMs > 900_000) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `marginMs must be an integer between 0 and 900000, got ${String(marginMs)}.`);
  }
  let instance: Promise<Metering> | undefined;
  const current = (): Promise<Metering> => {
    instance ??= Promise.resolve(metering()).then(
      (value) => (isMetering(value) ? value : createMetering({ autoStart: false, ...value })),
      (error: unknown) => {
        instance = undefined;
        throw error;
      },
    );
    return instance;
  };
  return async (_event, context) => {
    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    const m = await current();
    return m.flush(typeof remaining === 'function' ? { outOfTime: () => remaining() <= marginMs } : {});
  };
}

function isMetering(value: Metering | MeteringOptions): value is Metering {
  return typeof (value as Metering).flush === 'function' && typeof (value as Metering).meter === 'function';
}
