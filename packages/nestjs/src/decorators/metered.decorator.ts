import { METERED_METADATA } from '../metering.constants';
import type { MeteredUsage } from './metered-usage';
import { useMeterGuard } from './use-meter-guard';

export type { MeteredUsage } from './metered-usage';

/**
 * Records `quantity` (default 1) units of `dimension` for every request of the controller or handler that its
 * guards let through (a guard's refusal records nothing), billed when the `commitPolicy` bills the answer: by
 * default below 400, so a pipe's 400 or a handler's exception bills nothing, while a policy billing 4xx answers
 * bills a pipe's 400 too. Stackable; on a controller and a handler, both apply. Meters the route: its requests
 * get their meter (`identify`) and this usage from the route guard meterkit runs after every other guard.
 */
export function Metered(dimension: string, quantity = 1): ClassDecorator & MethodDecorator {
  const usage: MeteredUsage = { dimension, quantity };
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on: object = descriptor?.value ?? target;
    const existing: MeteredUsage[] = Reflect.getOwnMetadata(METERED_METADATA, on) ?? [];
    Reflect.defineMetadata(METERED_METADATA, [...existing, usage], on);
    useMeterGuard(target, descriptor === undefined ? undefined : key);
  };
}
