import { ErrorCodes, MeterkitError } from '../errors';

/** How long one AWS call may go without an answer before meterkit gives up on it (docs/decisions.md). */
export const DEFAULT_AWS_CALL_TIMEOUT_MS = 10_000;
const MAX_AWS_CALL_TIMEOUT_MS = 600_000;

/**
 * The error a call without an answer within its bound rejects with. Its name is the one the SDK gives its own
 * socket and connection timeouts: like them, the call may have been applied by AWS (classifyError: retry).
 */
export class AwsCallTimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`No answer from AWS within ${timeoutMs} ms: the call was aborted; AWS may or may not have applied it.`);
  }
}

/** Validates `aws.callTimeoutMs` (an integer of 1 to 600 000 ms) and fills in its default. Throws ERR_METERKIT_OPTIONS. */
export function resolveCallTimeoutMs(value: unknown, name = 'aws.callTimeoutMs'): number {
  if (value === undefined) return DEFAULT_AWS_CALL_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_AWS_CALL_TIMEOUT_MS) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${name} must be an integer between 1 and ${MAX_AWS_CALL_TIMEOUT_MS}, got ${String(value)}.`);
  }
  return value;
}

interface SendOptions {
  abortSignal?: AbortSignal;
  [option: string]: unknown;
}

/** Any AWS SDK v3 client: `send(command, options)` takes an `abortSignal`. */
interface SdkClient {
  send(command: unknown, options?: unknown, callback?: unknown): Promise<unknown> | void;
}

/** Bounded clients and the client each wraps: bounding a bounded client again wraps its original once. */
const originals = new WeakMap<object, object>();
/** Each client's bounded views by bound: the same client bounded twice the same way is one object. */
const views = new WeakMap<object, Map<number, object>>();

/**
 * The client with every `send(command)` bounded to `timeoutMs`: past it the call is aborted (the SDK's request
 * handler destroys its socket) and rejects with AwsCallTimeoutError, even when the SDK is still resolving
 * credentials or never honours the abort. Works for any SDK v3 client, the user's own included; everything else
 * (config, middlewareStack, destroy) is the client's own.
 */
export function boundCalls<C extends object>(client: C, timeoutMs: number): C {
  const target = (originals.get(client) ?? client) as C & SdkClient;
  let byBound = views.get(target);
  if (byBound === undefined) views.set(target, (byBound = new Map()));
  const known = byBound.get(timeoutMs);
  if (known !== undefined) return known as C;
  const send = (command: unknown, options?: unknown, callback?: unknown): Promise<unknown> | void => {
    // The callback forms are not used by meterkit: they go to the client unchanged.
    if (typeof options === 'function' || callback !== undefined) return target.send(command, options, callback);
    return sendWithin(target, command, options as SendOptions | undefined, timeoutMs);
  };
  const bounded = new Proxy(target, {
    get: (object, property) => (property === 'send' ? send : Reflect.get(object, property, object)),
  });
  originals.set(bounded, target);
  byBound.set(timeoutMs, bounded);
  return bounded;
}

function sendWithin(client: SdkClient, command: unknown, options: SendOptions | undefined, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController();
  const given = options?.abortSignal;
  const abortSignal = given === undefined ? controller.signal : AbortSignal.any([given, controller.signal]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new AwsCallTimeoutError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    (client.send(command, { ...options, abortSignal }) as Promise<unknown>).then(
      (output) => {
        clearTimeout(timer);
        resolve(output);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
