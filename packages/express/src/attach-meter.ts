import { finishMeter, meterForRequest, type CommitPolicy, type Metering, type RequestMeter } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedOptions } from './options';
import { persistOnEnd } from './persist-on-end';
import './request';

/** Commits the meter when the response finished, or applies the aborted-request policy when the connection closed first. */
function settleWhenDone(res: Response, meter: RequestMeter, policy: CommitPolicy): void {
  let finished = false;
  res.once('finish', () => {
    finished = true;
    finishMeter(meter, res.statusCode, false, policy);
  });
  res.once('close', () => {
    if (!finished) finishMeter(meter, res.statusCode, true, policy);
  });
}

/**
 * Binds `req.meter` to the customer `identify(req)` names. Never fails the request because metering is down:
 * an unknown or inactive customer or a store outage leaves `req.meter` undefined and sets `req.meteringError`.
 */
export function attachMeter(metering: Metering, options: ResolvedOptions): RequestHandler {
  return async function meterkitAttachMeter(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (req.meter !== undefined) return next();
    let identified: Awaited<ReturnType<ResolvedOptions['identify']>>;
    try {
      identified = await options.identify(req);
    } catch (error) {
      return next(error);
    }
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) req.meteringError = error;
    if (meter !== undefined) {
      req.meter = meter;
      settleWhenDone(res, meter, options.policy);
      if (options.persistBeforeResponse) persistOnEnd(res, meter, metering, options.policy);
    }
    next();
  };
}
