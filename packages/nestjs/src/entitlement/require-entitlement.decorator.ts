import type { RequireEntitlementOptions } from '@meterkit/core';
import { REQUIRED_ENTITLEMENTS_METADATA } from '../metering.constants';
import type { RequiredEntitlement } from './required-entitlement';
import { useMeterGuard } from '../decorators/use-meter-guard';

/**
 * Contract products: serves the handler (or every handler of the controller) only to buyers whose contract includes
 * `dimension` (at least `options.atLeast` of a numeric one); others get 403 ERR_METERKIT_ENTITLEMENT_REQUIRED. Checked
 * by the route guard meterkit runs after every other guard, whatever the order of the decorators (so your
 * authentication has run when `identify` reads the request). Stackable; on a controller and a handler, all apply.
 * Checked when the module initializes: a dimension no contract product lists in `entitlements` makes `app.init()`
 * reject with ERR_METERKIT_UNKNOWN_DIMENSION.
 */
export function RequireEntitlement(dimension: string, options?: RequireEntitlementOptions): ClassDecorator & MethodDecorator {
  const required: RequiredEntitlement = options === undefined ? { dimension } : { dimension, options };
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on: object = descriptor?.value ?? target;
    const existing: RequiredEntitlement[] = Reflect.getOwnMetadata(REQUIRED_ENTITLEMENTS_METADATA, on) ?? [];
    Reflect.defineMetadata(REQUIRED_ENTITLEMENTS_METADATA, [...existing, required], on);
    useMeterGuard(target, descriptor === undefined ? undefined : key);
  };
}
