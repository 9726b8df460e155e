import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { meterOf } from '../request-meter';

/** Hands the request's `RequestMeter` to a handler, or `null` when the request is not metered. */
export const Meter = createParamDecorator((_data: unknown, context: ExecutionContext) => meterOf(context.switchToHttp().getRequest<object>()));
