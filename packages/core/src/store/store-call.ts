import { ErrorCodes, MeterkitError } from '../errors';

/** Runs a store call, turning a driver's error into ERR_METERKIT_STORE. */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    if (cause instanceof MeterkitError) throw cause;
    throw new MeterkitError(ErrorCodes.STORE, 'The store refused the operation.', { cause });
  }
}
