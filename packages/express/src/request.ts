import type { MeterkitError, RequestMeter } from '@meterkit/core';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * This request's meter, bound to the customer `identify(req)` named. Undefined when the request is not
       * identified, or its customer is unknown or inactive, or the registry could not be read (see `meteringError`).
       */
      meter?: RequestMeter;
      /** Why an identified request has no meter. */
      meteringError?: MeterkitError;
    }
  }
}

export {};
