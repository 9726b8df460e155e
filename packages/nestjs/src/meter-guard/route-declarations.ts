import type { EntitlementRequirement } from '@meterkit/core';
import type { MeteredUsage } from '../decorators/metered-usage';
import type { RequiredEntitlement } from '../entitlement/required-entitlement';
import { METER_GUARD_METADATA, METERED_METADATA, REQUIRED_ENTITLEMENTS_METADATA, UNMETERED_METADATA } from '../metering.constants';

/**
 * What a route declares: its `@Metered()` usage (null: not metered, its controller `@Unmetered()` or the route
 * declaring nothing) and its `@RequireEntitlement()` checks.
 */
export interface RouteDeclarations {
  readonly usages: readonly MeteredUsage[] | null;
  readonly requirements: readonly EntitlementRequirement[];
  /** Whether the route's requests get their meter: it is metered or requires an entitlement. */
  readonly binds: boolean;
}

const NONE: readonly never[] = [];

/** A route that declares nothing: a handler inherited from a declaring controller's base by one that does not declare. */
const UNDECLARED: RouteDeclarations = { usages: null, requirements: NONE, binds: false };

// Reflect.getMetadata: a controller extending a declaring one inherits its declarations, as it inherits its guards.
function usagesOn(target: object): readonly MeteredUsage[] {
  return Reflect.getMetadata(METERED_METADATA, target) ?? NONE;
}

function requiredOn(target: object): EntitlementRequirement[] {
  const declared: readonly RequiredEntitlement[] = Reflect.getMetadata(REQUIRED_ENTITLEMENTS_METADATA, target) ?? NONE;
  return declared.map(({ dimension, options }) => (options?.atLeast === undefined ? { dimension } : { dimension, atLeast: options.atLeast }));
}

function declarationsOf(controller: object, handler: object): RouteDeclarations {
  const declares = Reflect.getMetadata(METER_GUARD_METADATA, controller) === true || Reflect.getOwnMetadata(METER_GUARD_METADATA, handler) === true;
  if (!declares) return UNDECLARED;
  const usages = Reflect.getMetadata(UNMETERED_METADATA, controller) === true ? null : [...usagesOn(controller), ...usagesOn(handler)];
  const requirements = [...requiredOn(controller), ...requiredOn(handler)];
  return { usages, requirements, binds: usages !== null || requirements.length > 0 };
}

/** The declarations of one handler: for the first controller it served, then for each other one inheriting it. */
interface HandlerDeclarations {
  readonly controller: object;
  readonly declarations: RouteDeclarations;
  inherited?: WeakMap<object, RouteDeclarations>;
}

/**
 * The declarations of each handler in its controller (the controller's, then the handler's own), read from the
 * metadata once per controller and handler: Nest calls a route's guard with the same class and handler on every
 * request.
 */
export class RouteDeclarationsCache {
  private readonly known = new WeakMap<object, HandlerDeclarations>();

  of(controller: object, handler: object): RouteDeclarations {
    const known = this.known.get(handler);
    if (known === undefined) {
      const declarations = declarationsOf(controller, handler);
      this.known.set(handler, { controller, declarations });
      return declarations;
    }
    if (known.controller === controller) return known.declarations;
    known.inherited ??= new WeakMap();
    let declarations = known.inherited.get(controller);
    if (declarations === undefined) {
      declarations = declarationsOf(controller, handler);
      known.inherited.set(controller, declarations);
    }
    return declarations;
  }
}
