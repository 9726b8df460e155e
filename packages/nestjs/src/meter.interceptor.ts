import { Inject, Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCodes, knownMeterForRequest, meterForRequest, MeterkitError, type Identified, type Metering, type RequestMeter } from '@meterkit/core';
import { tap, type Observable, type TapObserver } from 'rxjs';
import { METERED_METADATA, METERING, METERING_MODULE_OPTIONS, UNMETERED_METADATA } from './metering.constants';
import type { MeteringModuleOptions } from './metering-options';
import type { MeteredUsage } from './decorators/metered.decorator';
import { rawResponse, responseSettler } from './raw-response';
import { attachMeter } from './request-meter';

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
 * Global interceptor: runs `identify`, attaches the request's meter, records `@Metered()` usage once the handler
 * has answered, and commits or discards the meter when the response is done. Metering trouble never fails the request.
 * A customer this instance already knows is attached without a promise; metadata is read once per handler.
 */
@Injectable()
export class MeterInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Metering');
  /** `@Metered()` usage of each handler in its controller (the controller's, then its own); null when `@Unmetered()`. */
  private readonly declared = new WeakMap<object, { readonly controller: object; readonly usages: readonly MeteredUsage[] | null }>();
  private readonly settle: ReturnType<typeof responseSettler>;

  constructor(
    @Inject(METERING) private readonly metering: Metering,
    @Inject(METERING_MODULE_OPTIONS) private readonly options: MeteringModuleOptions,
    private readonly reflector: Reflector,
  ) {
    this.settle = responseSettler(options.commitPolicy);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    const identify = this.options.identify;
    if (identify === undefined || context.getType() !== 'http') return next.handle();
    const usages = this.usagesOf(context);
    if (usages === null) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    const response = rawResponse(http.getResponse());
    if (response === undefined) return next.handle();
    let identified: Identified | Promise<Identified>;
    try {
      identified = identify(request);
    } catch (cause) {
      this.identifyFailed(cause, request);
      return next.handle();
    }
    if (!isPromise(identified)) {
      const known = knownMeterForRequest(this.metering, identified);
      if (known === null) return next.handle();
      if (known !== undefined) return this.metered(known, usages, request, response, next);
    }
    return this.resolved(identified, usages, request, response, next);
  }

  recordDeclared(meter: RequestMeter, usages: readonly MeteredUsage[], request: object): void {
    for (const usage of usages) {
      try {
        meter.record(usage.dimension, usage.quantity);
      } catch (error) {
        this.report(error instanceof MeterkitError ? error : new MeterkitError(ErrorCodes.UNKNOWN_DIMENSION, String(error)), request);
      }
    }
  }

  private async resolved(
    identified: Identified | PromiseLike<Identified>,
    usages: readonly MeteredUsage[],
    request: object,
    response: NonNullable<ReturnType<typeof rawResponse>>,
    next: CallHandler,
  ): Promise<Observable<unknown>> {
    let who: Identified;
    try {
      who = await identified;
    } catch (cause) {
      this.identifyFailed(cause, request);
      return next.handle();
    }
    const { meter, error } = await meterForRequest(this.metering, who);
    if (error !== undefined) this.report(error, request);
    return meter === undefined ? next.handle() : this.metered(meter, usages, request, response, next);
  }

  private metered(
    meter: RequestMeter,
    usages: readonly MeteredUsage[],
    request: object,
    response: NonNullable<ReturnType<typeof rawResponse>>,
    next: CallHandler,
  ): Observable<unknown> {
    attachMeter(request, meter);
    this.settle(response, meter);
    // Pipes run inside next.handle(), after this interceptor: a request they refuse never reaches the handler, and
    // its declared usage must not be recorded, whatever the commit policy bills.
    if (usages.length === 0) return next.handle();
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

  private identifyFailed(cause: unknown, request: object): void {
    this.report(new MeterkitError(ErrorCodes.STORE, 'identify() threw: the customer of this request is unknown; it is served unmetered.', { cause }), request);
  }

  private report(error: MeterkitError, request: object): void {
    if (this.options.onMeteringError !== undefined) {
      try {
        this.options.onMeteringError(error, request);
      } catch {
        // The hook is the app's; a throwing hook must not fail the request either.
      }
      return;
    }
    // Requests of tenants that are not AWS Marketplace customers are common and expected.
    if (error.code === ErrorCodes.UNKNOWN_CUSTOMER) this.logger.debug(`${error.code}: ${error.message}`);
    else this.logger.warn(`${error.code}: ${error.message}`);
  }
}
