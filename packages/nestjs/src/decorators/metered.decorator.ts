import { METERED_METADATA } from '../metering.constants';

export interface MeteredUsage {
  readonly dimension: string;
  readonly quantity: number;
}

/**
 * Records `quantity` (default 1) units of `dimension` for every request the controller or handler serves, once the
 * handler has answered (a request refused by a guard or a pipe records nothing); billed when the response is below
 * 400 (the `commitPolicy`). Stackable; on a controller and a handler, both apply.
 */
export function Metered(dimension: string, quantity = 1): ClassDecorator & MethodDecorator {
  const usage: MeteredUsage = { dimension, quantity };
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on: object = descriptor?.value ?? target;
    const existing: MeteredUsage[] = Reflect.getOwnMetadata(METERED_METADATA, on) ?? [];
    Reflect.defineMetadata(METERED_METADATA, [...existing, usage], on);
  };
}
