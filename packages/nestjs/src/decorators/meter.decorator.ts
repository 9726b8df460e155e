import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { meterOf } from '../request-meter';
import { useMeterGuard } from './use-meter-guard';

const MeterParam = createParamDecorator((_data: unknown, context: ExecutionContext) => meterOf(context.getArgByIndex<object>(0)));

/**
 * Hands a handler the request's `RequestMeter`, or `null` when the request is not metered. Meters the handler's
 * route: its requests get their meter (`identify`) from the route guard meterkit runs after every other guard.
 */
export function Meter(): ParameterDecorator {
  const param = MeterParam();
  return (target: object, key: string | symbol | undefined, index: number) => {
    param(target, key, index);
    if (key !== undefined) useMeterGuard(target, key);
  };
}
