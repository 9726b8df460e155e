import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCodes, knownMeterForRequest, meterForRequest, MeterkitError, watchServerResponses, type Identified, type Metering, type RequestMeter } from '@meterkit/core';
import { METERING, METERING_MODULE_OPTIONS } from './metering.constants';
import type { MeteringModuleOptions } from './metering-options';
import { BoundMeter, rawResponse, responseSettler } from './raw-response';
import { bindingOf, prepareBindingSlots, setBinding, type Binding } from './request-meter';

export type { Binding } from './request-meter';

const UNMETERED: Binding = { meter: null };

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Binds a request's meter once (MeterGuard, the route guard of the routes that declare metering):
 * runs `identify`, resolves the customer, puts the binding on the request (`@Meter()`, `meterOf()` read its meter)
 * and has the response settle the meter by the commit policy. A customer this instance already knows is bound
 * without a promise. Metering trouble never fails the request: it is reported to `onMeteringError` (or logged) and
 * the request is unmetered.
 */
@Injectable()
export class RequestMetering {
  private readonly logger = new Logger('Metering');
  private readonly settle: ReturnType<typeof responseSettler>;

  constructor(
    @Inject(METERING) private readonly metering: Metering,
    @Inject(METERING_MODULE_OPTIONS) private readonly options: MeteringModuleOptions,
  ) {
    this.settle = responseSettler(options.commitPolicy);
    watchServerResponses();
    prepareBindingSlots();
  }

  /** The request's binding; a promise only while its customer must be resolved. */
  bind(request: object, response: unknown): Binding | Promise<Binding> {
    const known = bindingOf(request);
    if (known !== undefined) return known;
    const binding = this.resolve(request, response);
    // A bound meter is on the request already (see bound()).
    if (binding instanceof BoundMeter) return binding;
    setBinding(request, binding);
    if (isPromise(binding)) {
      binding.then(
        (resolved) => setBinding(request, resolved),
        () => undefined,
      );
    }
    return binding;
  }

  private resolve(request: object, response: unknown): Binding | Promise<Binding> {
    const identify = this.options.identify;
    const raw = rawResponse(response);
    if (identify === undefined || raw === undefined) return UNMETERED;
    let identified: Identified | Promise<Identified>;
    try {
      identified = identify(request);
    } catch (cause) {
      return this.identifyFailed(cause, request);
    }
    if (!isPromise(identified)) {
      const known = knownMeterForRequest(this.metering, identified);
      if (known === null) return UNMETERED;
      if (known !== undefined) return this.bound(known, request, raw);
    }
    return this.resolved(identified, request, raw);
  }

  private async resolved(identified: Identified | PromiseLike<Identified>, request: object, raw: NonNullable<ReturnType<typeof rawResponse>>): Promise<Binding> {
    let who: Identified;
    try {
      who = await identified;
    } catch (cause) {
      return this.identifyFailed(cause, request);
    }
    const { meter, error } = await meterForRequest(this.metering, who);
    if (error !== undefined) this.report(error, request);
    if (meter === undefined) return error === undefined ? UNMETERED : { meter: null, error };
    return this.bound(meter, request, raw);
  }

  /** The binding of a metered request: on the request (`@Meter()`), and settled by its response. */
  private bound(meter: RequestMeter, request: object, raw: NonNullable<ReturnType<typeof rawResponse>>): Binding {
    const binding = new BoundMeter(meter, raw);
    setBinding(request, binding);
    this.settle(binding);
    return binding;
  }

  private identifyFailed(cause: unknown, request: object): Binding {
    const error = new MeterkitError(ErrorCodes.STORE, 'identify() threw: the customer of this request is unknown; it is served unmetered.', { cause });
    this.report(error, request);
    return { meter: null, error };
  }

  report(error: MeterkitError, request: object): void {
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
