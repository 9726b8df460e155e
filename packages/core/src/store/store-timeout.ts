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

