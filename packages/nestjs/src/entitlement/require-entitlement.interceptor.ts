import { HttpException, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { checkRouteEntitlement, type EntitlementRequirement } from '@meterkit/core';
import type { Observable } from 'rxjs';
import { REQUIRED_ENTITLEMENTS_METADATA } from '../metering.constants';
import type { Binding, RequestMetering } from '../request-metering';
import { requestMeteringOf } from '../request-metering.lookup';
import type { RequiredEntitlement } from './required-entitlement';

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** The requirements declared on `target` (a controller or a handler) itself. */
function requiredOn(target: object): EntitlementRequirement[] {
  const declared: readonly RequiredEntitlement[] = Reflect.getOwnMetadata(REQUIRED_ENTITLEMENTS_METADATA, target) ?? [];
  return declared.map(({ dimension, options }) => (options?.atLeast === undefined ? { dimension } : { dimension, atLeast: options.atLeast }));
}

/**
 * The check of `@RequireEntitlement()`, as a route interceptor so that it runs after every guard (global, controller
 * and route, in whatever order the decorators were written): `identify` sees what the app's authentication set. It
 * reuses the request's meter (RequestMetering binds it once) and lets the request through only when the buyer holds
 * every entitlement its handler and controller require; otherwise it answers the core's 403
 * ERR_METERKIT_ENTITLEMENT_REQUIRED (503 ERR_METERKIT_STORE when the buyer could not be looked up), its headers set
 * here and its body as an HttpException's. The requirements were checked when the module initialized.
 */
@Injectable()
export class RequireEntitlementInterceptor implements NestInterceptor {
  /** Each handler's requirements in its controller: the controller's, then its own. */
  private readonly required = new WeakMap<object, { readonly controller: object; readonly requirements: readonly EntitlementRequirement[] }>();

  private resolved: RequestMetering | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  private get requests(): RequestMetering {
    return (this.resolved ??= requestMeteringOf(this.moduleRef));
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const requirements = this.requirementsOf(context);
    if (requirements.length === 0) return next.handle();
    const http = context.switchToHttp();
    const response = http.getResponse<unknown>();
    const binding = this.requests.bind(http.getRequest<object>(), response);
    if (isPromise(binding)) return binding.then((bound) => this.check(bound, requirements, response, next));
    return this.check(binding, requirements, response, next);
  }

  private check({ meter, error }: Binding, requirements: readonly EntitlementRequirement[], response: unknown, next: CallHandler): Observable<unknown> {
    for (const requirement of requirements) {
      const result = checkRouteEntitlement(meter, error, requirement);
      if (result.ok) continue;
      for (const [name, value] of Object.entries(result.headers)) this.adapterHost.httpAdapter.setHeader(response, name, value);
      throw new HttpException(result.body, result.status);
    }
    return next.handle();
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
