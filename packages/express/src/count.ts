import { ErrorCodes, MeterkitError, type Metering } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import './request';

/**
 * Route middleware recording `quantity` units of `dimension` on the request's meter; a no-op for requests
 * without a meter. Checked when the route is declared: a bad quantity is ERR_METERKIT_OPTIONS, a dimension no
 * configured product has ERR_METERKIT_UNKNOWN_DIMENSION, so the app fails to start instead of billing nothing.
 * A dimension another product has but the request's customer's does not goes to `next(error)`.
 */
export function count(metering: Metering, dimension: string, quantity = 1): RequestHandler {
  if (typeof dimension !== 'string' || dimension.length === 0) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `count(): dimension must be a non-empty string, got ${JSON.stringify(dimension)}.`);
  }
  if (!Number.isSafeInteger(quantity) || quantity < 0 || quantity > 2_147_483_647) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `count(): quantity must be a whole number in 0..2147483647, got ${String(quantity)}.`);
  }
  if (!metering.hasDimension(dimension)) {
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_DIMENSION,
      `count(${JSON.stringify(dimension)}): no configured product has this dimension; name one of the listing's dimension API names (case-sensitive).`,
    );
  }
  return function meterkitCount(req: Request, _res: Response, next: NextFunction): void {
    try {
      req.meter?.record(dimension, quantity);
    } catch (error) {
      return next(error);
    }
    next();
  };
}
