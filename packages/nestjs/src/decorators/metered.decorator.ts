import { METERED_METADATA } from '../metering.constants';
import type { MeteredUsage } from './metered-usage';
import { useMeterInterceptor } from './use-meter-interceptor';

export type { MeteredUsage } from './metered-usage';

/**
 * Records `quantity` (default 1) units of `dimension` for every request the controller or handler serves, once the
 * handler has answered (a request refused by a guard or a pipe records nothing); billed when the response is below
 * 400 (the `commitPolicy`). Stackable; on a controller and a handler, both apply. Meters the route: its requests get
 * their meter (`identify`, after every guard) through a route interceptor.
 */
export function Metered(dimension: string, quantity = 1): ClassDecorator & MethodDecorator {
  const usage: MeteredUsage = { dimension, quantity };
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on: object = descriptor?.value ?? target;
    const existing: MeteredUsage[] = Reflect.getOwnMetadata(METERED_METADATA, on) ?? [];
    Reflect.defineMetadata(METERED_METADATA, [...existing, usage], on);
    useMeterInterceptor(target, descriptor === undefined ? undefined : key);
  };
}
