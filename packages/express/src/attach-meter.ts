import { finishMeter, knownMeterForRequest, meterForRequest, type Identified, type Metering, type RequestMeter } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedOptions } from './options';
import { persistOnEnd } from './persist-on-end';
import './request';

/** The meter a response settles when it closes; kept on the response so that one listener serves every request. */
const SETTLES = Symbol('meterkit.settles');
type Settling = Response & { [SETTLES]?: RequestMeter };

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

  /**
   * 'close' follows 'finish' once the response is complete, or comes alone when the connection closed first:
   * one listener settles the meter either way (committed or discarded by the policy, aborted when not finished).
   */
  function settleOnClose(this: Settling): void {
    const meter = this[SETTLES];
    if (meter === undefined) return;
    this[SETTLES] = undefined;
    finishMeter(meter, this.statusCode, !this.writableFinished, policy);
  }

  function bind(req: Request, res: Response, meter: RequestMeter): void {
    req.meter = meter;
    (res as Settling)[SETTLES] = meter;
    res.on('close', settleOnClose);
    if (persistBeforeResponse) persistOnEnd(res, meter, metering, policy);
  }

  async function resolve(req: Request, res: Response, next: NextFunction, identified: Identified): Promise<void> {
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) req.meteringError = error;
    if (meter !== undefined) bind(req, res, meter);
    next();
  }

  // The returned promise (when the customer must be resolved) is Express 5's to watch, as for any async handler.
  return function meterkitAttachMeter(req: Request, res: Response, next: NextFunction): void | Promise<void> {
    if (req.meter !== undefined) return next();
    req.meter = null;
    let identified: Identified | Promise<Identified>;
    try {
      identified = identify(req);
    } catch (error) {
      return next(error);
    }
    if (isPromise(identified)) {
      return Promise.resolve(identified).then((who) => resolve(req, res, next, who), next);
    }
    const known = knownMeterForRequest(metering, identified);
    if (known === null) return next();
    if (known === undefined) return resolve(req, res, next, identified);
    bind(req, res, known);
    next();
  };
}
