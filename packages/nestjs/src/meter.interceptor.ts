import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { ErrorCodes, MeterkitError, type RequestMeter } from '@meterkit/core';
import { tap, type Observable, type TapObserver } from 'rxjs';
import { METERED_METADATA, UNMETERED_METADATA } from './metering.constants';
import type { MeteredUsage } from './decorators/metered-usage';
import type { Binding, RequestMetering } from './request-metering';
import { requestMeteringOf } from './request-metering.lookup';

/** Marks a request whose declared usage one MeterInterceptor handles (a controller's and its handler's both run). */
const HANDLED = Symbol('meterkit:declared-usage');
type Handled = { [HANDLED]?: true };

const NONE: readonly MeteredUsage[] = [];

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** Records a handler's declared usage once, when the handler answered (its first value, or completion without one). */
class DeclaredUsage implements Partial<TapObserver<unknown>> {
  private recorded = false;

  constructor(
    private readonly interceptor: MeterInterceptor,
    private readonly meter: RequestMeter,
    private readonly usages: readonly MeteredUsage[],
    private readonly request: object,
  ) {}

  next(): void {
    this.record();
  }

  complete(): void {
    this.record();
  }

  private record(): void {
    if (this.recorded) return;
    this.recorded = true;
    this.interceptor.recordDeclared(this.meter, this.usages, this.request);
  }
}

/**
 * The route interceptor `@Metered()` and `@Meter()` put on what they decorate (routes that declare nothing pay
 * nothing): binds the request's meter after every guard (RequestMetering: `identify`, the customer, the response
 * settling it), and records the handler's and its controller's `@Metered()` usage once the handler has answered.
 * Metering trouble never fails the request. Metadata is read once per handler.
 */
@Injectable()
export class MeterInterceptor implements NestInterceptor {
  /** `@Metered()` usage of each handler in its controller (the controller's, then its own); null when `@Unmetered()`. */
  private readonly declared = new WeakMap<object, { readonly controller: object; readonly usages: readonly MeteredUsage[] | null }>();

  private resolved: RequestMetering | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly reflector: Reflector,
  ) {}

  private get requests(): RequestMetering {
    return (this.resolved ??= requestMeteringOf(this.moduleRef));
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    if ((request as Handled)[HANDLED] === true) return next.handle();
    (request as Handled)[HANDLED] = true;
    const usages = this.usagesOf(context);
    if (usages === null) return next.handle();
    const binding = this.requests.bind(request, http.getResponse());
    if (isPromise(binding)) return binding.then((bound) => this.handle(bound, usages, request, next));
    return this.handle(binding, usages, request, next);
  }

  recordDeclared(meter: RequestMeter, usages: readonly MeteredUsage[], request: object): void {
    for (const usage of usages) {
      try {
        meter.record(usage.dimension, usage.quantity);
      } catch (error) {
        this.requests.report(error instanceof MeterkitError ? error : new MeterkitError(ErrorCodes.UNKNOWN_DIMENSION, String(error)), request);
      }
    }
  }

  private handle({ meter }: Binding, usages: readonly MeteredUsage[], request: object, next: CallHandler): Observable<unknown> {
    // Pipes run inside next.handle(), after this interceptor: a request they refuse never reaches the handler, and
    // its declared usage must not be recorded, whatever the commit policy bills.
    if (meter === null || usages.length === 0) return next.handle();
    return next.handle().pipe(tap(new DeclaredUsage(this, meter, usages, request)));
  }

  /** The handler's declared usage; null when its controller is `@Unmetered()`. */
  private usagesOf(context: ExecutionContext): readonly MeteredUsage[] | null {
    const handler = context.getHandler();
    const controller = context.getClass();
    const known = this.declared.get(handler);
    // A handler inherited by several controllers is cached for one of them.
    if (known !== undefined && known.controller === controller) return known.usages;
    const usages =
      this.reflector.get<boolean | undefined>(UNMETERED_METADATA, controller) === true
        ? null
        : [
            ...(this.reflector.get<MeteredUsage[] | undefined>(METERED_METADATA, controller) ?? NONE),
            ...(this.reflector.get<MeteredUsage[] | undefined>(METERED_METADATA, handler) ?? NONE),
          ];
    if (known === undefined) this.declared.set(handler, { controller, usages });
    return usages;
  }
}
