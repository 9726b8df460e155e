import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { meterOf } from '../request-meter';
import { useMeterInterceptor } from './use-meter-interceptor';

const MeterParam = createParamDecorator((_data: unknown, context: ExecutionContext) => meterOf(context.switchToHttp().getRequest<object>()));

/**
 * Hands a handler the request's `RequestMeter`, or `null` when the request is not metered. Meters the handler's
 * route: its requests get their meter (`identify`, after every guard) through a route interceptor.
 */
export function Meter(): ParameterDecorator {
  const param = MeterParam();
  return (target: object, key: string | symbol | undefined, index: number) => {
    param(target, key, index);
    if (key !== undefined) useMeterInterceptor(target, key);
  };
}
