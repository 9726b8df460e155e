import { ErrorCodes, MeterkitError } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import './request';

/**
 * Route middleware recording `quantity` units of `dimension` on the request's meter; a no-op for requests
 * without a meter. A dimension the product does not have is a programming error and goes to `next(error)`.
 */
export function count(dimension: string, quantity = 1): RequestHandler {
  if (typeof dimension !== 'string' || dimension.length === 0) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `count(): dimension must be a non-empty string, got ${JSON.stringify(dimension)}.`);
  }
  if (!Number.isSafeInteger(quantity) || quantity < 0 || quantity > 2_147_483_647) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `count(): quantity must be a whole number in 0..2147483647, got ${String(quantity)}.`);
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
