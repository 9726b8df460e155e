import { ErrorCodes, LifecycleReceiver, type LifecycleResult, type Metering } from '@meterkit/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { LifecycleOptions } from './options';

function refused(status: 400 | 413, message: string): LifecycleResult {
  return { status, body: { error: { code: ErrorCodes.LIFECYCLE_MALFORMED, message } } };
}

/** Maps body-parser's errors (size, encoding, aborted reads: all the sender's) to the route's 4xx answers. */
function bodyError(error: { status?: number }, limit: number): LifecycleResult {
  if (error.status === 413) return refused(413, `Deliveries are limited to ${limit} bytes.`);
  return refused(400, 'The delivery could not be read.');
}

function send(res: Response, result: LifecycleResult): void {
  res.set('Cache-Control', 'no-store').status(result.status).json(result.body);
}

/**
 * POST handler of the lifecycle route. Reads the body raw (any content type: EventBridge sends JSON, SNS
 * text/plain) with a parser scoped to this route, up to `maxBodyBytes`, and hands it to the core's
 * LifecycleReceiver, which checks the secret or SNS signature and applies the event. Bad input is a 4xx.
 */
export function lifecycleRoute(metering: Metering, options: LifecycleOptions): RequestHandler {
  const receiver = new LifecycleReceiver(metering, options);
  const readRaw = express.raw({ type: () => true, limit: receiver.bodyLimit, inflate: false });

  return function meterkitLifecycle(req: Request, res: Response, next: NextFunction): void {
    readRaw(req, res, (error?: unknown) => {
      if (error !== undefined && error !== null) return send(res, bodyError(error as { status?: number }, receiver.bodyLimit));
      // A parser the app mounted before meterkit may have read the body already: the receiver accepts that too.
      const body: unknown = req.body ?? Buffer.alloc(0);
      receiver.handle({ headers: req.headers, body }).then((result) => send(res, result), next);
    });
  };
}
