import { ErrorCodes, MeterkitError } from '../errors';

/**
 * Settles as `work` does, or rejects with ERR_METERKIT_STORE once `timeoutMs` passed without an answer. The store
 * call itself goes on: a caller whose call may have side effects (a write) must treat it as possibly applied.
 */
export function withinStoreTimeout<T>(work: Promise<T>, timeoutMs: number, action: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new MeterkitError(ErrorCodes.STORE, `The store did not answer within ${timeoutMs} ms (${action}); storeTimeoutMs bounds every store call on the request path.`, {
          details: { timeoutMs, action },
        }),
      );
    }, timeoutMs);
    // The bound never keeps the process alive on its own.
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}


/**
 * The store calls a request waits for. Each is bounded by `timeoutMs`; once one went unanswered, later calls are
 * not waited for at all until the store serves one (each call still runs, so the first success re-opens the wait):
 * during a hang every request is answered at once instead of each waiting out the bound again. Errors do not
 * re-open it: a store that hung and now fails (a pool giving up on its connections) is no more usable.
 */
export class RequestStoreCalls {
  private unanswered = false;

  constructor(readonly timeoutMs: number) {}

  /** Whether a call went unanswered and none has been answered since. */
  get hanging(): boolean {
    return this.unanswered;
  }

  wait<T>(work: Promise<T>, action: string): Promise<T> {
    work.then(
      () => this.answered(),
      () => undefined,
    );
    if (this.unanswered) {
      return Promise.reject(
        new MeterkitError(ErrorCodes.STORE, `The store has left an earlier call unanswered past ${this.timeoutMs} ms: ${action} was not waited for.`, {
          details: { timeoutMs: this.timeoutMs, action },
        }),
      );
    }
    return withinStoreTimeout(work, this.timeoutMs, action).catch((error: unknown) => {
      if (isStoreTimeout(error)) this.unanswered = true;
      throw error;
    });
  }

  /** The store served a call (a write made outside wait(), for one): later calls are waited for again. */
  answered(): void {
    this.unanswered = false;
  }
}

function isStoreTimeout(error: unknown): boolean {
  return error instanceof MeterkitError && error.code === ErrorCodes.STORE && typeof error.details?.['timeoutMs'] === 'number';
}
