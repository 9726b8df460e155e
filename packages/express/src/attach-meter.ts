import { finishMeter, knownMeterForRequest, meterForRequest, reserveRequestSlot, type Identified, type Metering, type RequestMeter } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedOptions } from './options';
import { persistOnEnd } from './persist-on-end';
import './request';

/** The response as Node gives it: `res.req` is its request, whose `req.meter` the response settles when it closes. */
type Settling = Response & { req: Request };

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Binds `req.meter` to the customer `identify(req)` names. Never fails the request because metering is down:
 * an unknown or inactive customer or a store outage leaves `req.meter` null and sets `req.meteringError`.
 * A customer this instance already knows is bound without a promise (Metering.tryMeter); others are resolved.
 */
export function attachMeter(metering: Metering, options: ResolvedOptions): RequestHandler {
  const { policy, identify, persistBeforeResponse } = options;
  reserveRequestSlot('meter');

  /**
   * 'close' follows 'finish' once the response is complete, or comes alone when the connection closed first:
   * one listener, shared by every request, settles the request's meter either way (committed or discarded by the
   * policy, aborted when not finished). The meter is read from the request: nothing is stored on the response.
   */
  function settleOnClose(this: Settling): void {
    const meter = this.req.meter;
    if (meter === undefined || meter === null) return;
    finishMeter(meter, this.statusCode, !this.writableFinished, policy);
  }

  function bind(req: Request, res: Response, meter: RequestMeter): void {
    req.meter = meter;
    res.on('close', settleOnClose);
    if (persistBeforeResponse) persistOnEnd(res, meter, metering, policy);
  }

  async function resolve(req: Request, res: Response, next: NextFunction, identified: Identified): Promise<void> {
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) req.meteringError = error;
    if (meter === undefined) req.meter = null;
    else bind(req, res, meter);
    next();
  }

  // req.meter is written once per request (null, or the bound meter). The returned promise (when the customer must
  // be resolved) is Express 5's to watch, as for any async handler.
  return function meterkitAttachMeter(req: Request, res: Response, next: NextFunction): void | Promise<void> {
    if (req.meter !== undefined) return next();
    let identified: Identified | Promise<Identified>;
    try {
      identified = identify(req);
    } catch (error) {
      req.meter = null;
      return next(error);
    }
    if (isPromise(identified)) {
      return Promise.resolve(identified).then(
        (who) => resolve(req, res, next, who),
        (error: unknown) => {
          req.meter = null;
          next(error);
        },
      );
    }
    const known = knownMeterForRequest(metering, identified);
    if (known === undefined) return resolve(req, res, next, identified);
    if (known === null) req.meter = null;
    else bind(req, res, known);
    next();
  };
}
