import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { checkRouteEntitlement, type EntitlementRequirement, type RouteEntitlementResult } from '@meterkit/core';
import { REQUIRED_ENTITLEMENTS_METADATA } from '../metering.constants';
import { RequestMetering, type Binding } from '../request-metering';
import type { RequiredEntitlement } from './require-entitlement.decorator';

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** The requirements declared on `target` (a controller or a handler) itself. */
function requiredOn(target: object): EntitlementRequirement[] {
  const declared: readonly RequiredEntitlement[] = Reflect.getOwnMetadata(REQUIRED_ENTITLEMENTS_METADATA, target) ?? [];
  return declared.map(({ dimension, options }) => (options?.atLeast === undefined ? { dimension } : { dimension, atLeast: options.atLeast }));
}

/**
 * The guard of `@RequireEntitlement()`: binds the request's meter (the interceptor reuses it) and lets the request
 * through only when the buyer holds every entitlement its handler and controller require; otherwise it answers the
 * core's 403 ERR_METERKIT_ENTITLEMENT_REQUIRED (503 ERR_METERKIT_STORE when the buyer could not be looked up), its
 * headers set here and its body as the exception's. The requirements were checked when the module initialized.
 */
@Injectable()
export class ContractEntitlementGuard implements CanActivate {
  /** Each handler's requirements in its controller: the controller's, then its own. */
  private readonly required = new WeakMap<object, { readonly controller: object; readonly requirements: readonly EntitlementRequirement[] }>();

  constructor(
    private readonly requests: RequestMetering,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirements = this.requirementsOf(context);
    if (requirements.length === 0) return true;
    const http = context.switchToHttp();
    const response = http.getResponse<unknown>();
    const binding = this.requests.bind(http.getRequest<object>(), response);
    if (isPromise(binding)) return binding.then((bound) => this.check(bound, requirements, response));
    return this.check(binding, requirements, response);
  }

  private check({ meter, error }: Binding, requirements: readonly EntitlementRequirement[], response: unknown): boolean {
    for (const requirement of requirements) {
      const result: RouteEntitlementResult = checkRouteEntitlement(meter, error, requirement);
      if (result.ok) continue;
      for (const [name, value] of Object.entries(result.headers)) this.adapterHost.httpAdapter.setHeader(response, name, value);
      throw new HttpException(result.body, result.status);
    }
    return true;
  }

  private requirementsOf(context: ExecutionContext): readonly EntitlementRequirement[] {
    const handler = context.getHandler();
    const controller = context.getClass();
    const known = this.required.get(handler);
    if (known !== undefined && known.controller === controller) return known.requirements;
    const requirements = [...requiredOn(controller), ...requiredOn(handler)];
    if (known === undefined) this.required.set(handler, { controller, requirements });
    return requirements;
  }
}
