import { Injectable } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { METER_GUARD_METADATA } from '../metering.constants';
import { MeterGuard } from './meter.guard';

type Controller = abstract new (...args: never[]) => unknown;

function withoutMeterGuard(guards: readonly unknown[]): unknown[] {
  return guards.filter((guard) => guard !== MeterGuard);
}

/**
 * Makes MeterGuard the last guard of each route of `controller` that declares metering, on the controller or on the
 * handler: after the global guards, the controller's and the handler's own, whatever the order the decorators were
 * written in. Nest runs a route's global guards, then its controller's, then its handler's, each list in the order
 * its decorators were applied (bottom up, a parameter's `@Meter()` before any method decorator). The guard a
 * controller-level declaration put on the class moves to each of its routes. Running it again changes nothing.
 */
export function placeMeterGuard(controller: Controller, scanner: MetadataScanner): void {
  const prototype = controller.prototype as Record<string, unknown>;
  const controllerDeclares = Reflect.getMetadata(METER_GUARD_METADATA, controller) === true;
  for (const method of scanner.getAllMethodNames(prototype)) {
    const handler = prototype[method];
    if (typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
    if (!controllerDeclares && Reflect.getOwnMetadata(METER_GUARD_METADATA, handler) !== true) continue;
    const guards: readonly unknown[] = Reflect.getOwnMetadata(GUARDS_METADATA, handler) ?? [];
    // Already placed: its only occurrence is the last.
    if (guards.length > 0 && guards.indexOf(MeterGuard) === guards.length - 1) continue;
    Reflect.defineMetadata(GUARDS_METADATA, [...withoutMeterGuard(guards), MeterGuard], handler);
  }
  for (let level: unknown = controller; typeof level === 'function' && level !== Function.prototype; level = Object.getPrototypeOf(level)) {
    const guards: readonly unknown[] | undefined = Reflect.getOwnMetadata(GUARDS_METADATA, level);
    if (guards?.includes(MeterGuard) === true) Reflect.defineMetadata(GUARDS_METADATA, withoutMeterGuard(guards), level);
  }
}

/**
 * Places MeterGuard on every controller of the app as MeteringModule's providers are created: Nest reads each
 * route's guards when `app.init()` registers the routes, which is after every provider is created and before any
 * `onModuleInit`, so this runs in the constructor.
 */
@Injectable()
export class MeterGuardPlacement {
  constructor(discovery: DiscoveryService, scanner: MetadataScanner) {
    for (const wrapper of discovery.getControllers()) {
      const controller = wrapper.metatype as Controller | null | undefined;
      if (typeof controller === 'function') placeMeterGuard(controller, scanner);
    }
  }
}
