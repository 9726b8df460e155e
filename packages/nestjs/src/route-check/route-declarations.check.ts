import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ErrorCodes, MeterkitError, resolveEntitlementRequirement, type Metering } from '@meterkit/core';
import type { MeteredUsage } from '../decorators/metered-usage';
import type { RequiredEntitlement } from '../entitlement/required-entitlement';
import { METERED_METADATA, METERING, REQUIRED_ENTITLEMENTS_METADATA } from '../metering.constants';

/** A class or handler and the name errors give it. */
interface Declaring {
  readonly target: object;
  readonly name: string;
}

/** Every controller class and each of its handlers (prototype methods, inherited ones included). */
function declaringTargets(discovery: DiscoveryService, scanner: MetadataScanner): Declaring[] {
  const targets: Declaring[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null | undefined;
    if (typeof controller !== 'function') continue;
    targets.push({ target: controller, name: controller.name });
    for (const method of scanner.getAllMethodNames(controller.prototype as object)) {
      const handler: unknown = (controller.prototype as Record<string, unknown>)[method];
      if (typeof handler === 'function') targets.push({ target: handler, name: `${controller.name}.${method}()` });
    }
  }
  return targets;
}

/**
 * Checks the route-level declarations of every controller when the module initializes, so `app.init()` (and
 * `app.listen()`) rejects instead of serving routes that cannot bill or would refuse every buyer: a `@Metered()`
 * dimension no configured product has, or a `@RequireEntitlement()` dimension no contract product lists in
 * `entitlements`, is ERR_METERKIT_UNKNOWN_DIMENSION (a bad `atLeast` ERR_METERKIT_OPTIONS).
 */
@Injectable()
export class RouteDeclarationsCheck implements OnModuleInit {
  constructor(
    @Inject(METERING) private readonly metering: Metering,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    for (const { target, name } of declaringTargets(this.discovery, this.scanner)) {
      const usages: readonly MeteredUsage[] = Reflect.getOwnMetadata(METERED_METADATA, target) ?? [];
      for (const { dimension } of usages) {
        if (!this.metering.hasDimension(dimension)) {
          throw new MeterkitError(
            ErrorCodes.UNKNOWN_DIMENSION,
            `${name}: @Metered(${JSON.stringify(dimension)}) names a dimension no configured product has; use one of the listing's dimension API names (case-sensitive).`,
          );
        }
      }
      const required: readonly RequiredEntitlement[] = Reflect.getOwnMetadata(REQUIRED_ENTITLEMENTS_METADATA, target) ?? [];
      for (const { dimension, options } of required) {
        resolveEntitlementRequirement(this.metering, dimension, options, `${name}: @RequireEntitlement(${JSON.stringify(dimension)})`);
      }
    }
  }
}
