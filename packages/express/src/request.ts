import type { MeterkitError, RequestMeter } from '@meterkit/core';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * This request's meter, bound to the customer `identify(req)` named. `null` when the request went through
       * meterkit but is not metered: not identified, its customer unknown or inactive, or the registry could not be
       * read (see `meteringError`). Undefined only on requests meterkit never saw.
       */
      meter?: RequestMeter | null;
      /** Why an identified request has no meter. */
      meteringError?: MeterkitError;
    }
  }
}

export {};
