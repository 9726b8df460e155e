/** Injection token of the core `Metering` instance; inject it with `@InjectMetering()`. */
export const METERING = Symbol('meterkit:metering');

/** Injection token of the `MeteringModule` options. */
export const METERING_MODULE_OPTIONS = Symbol('meterkit:module-options');

/** @internal The resolved registration route of one MeteringModule. */
export const REGISTRATION_ROUTE = Symbol('meterkit:registration-route');

/** @internal The resolved lifecycle route of one MeteringModule. */
export const LIFECYCLE_ROUTE = Symbol('meterkit:lifecycle-route');

/** @internal Metadata key of controllers whose requests are never metered (AWS's own deliveries, the status page). */
export const UNMETERED_METADATA = 'meterkit:unmetered';

/** @internal Metadata key of `@Metered()`. */
export const METERED_METADATA = 'meterkit:metered';

/** @internal The status page of one MeteringModule. */
export const STATUS_PAGE_ROUTE = Symbol('meterkit:status-page-route');

/** @internal Metadata key of meterkit's own controllers (registration, lifecycle, status page), which the entitlement gate lets through. */
export const OWN_ROUTE_METADATA = 'meterkit:own-route';

/** @internal Metadata key of `@RequireEntitlement()`. */
export const REQUIRED_ENTITLEMENTS_METADATA = 'meterkit:required-entitlements';

/** @internal Marks a controller or handler that declares metering: MeteringModule makes MeterGuard the last guard of its routes. */
export const METER_GUARD_METADATA = 'meterkit:meter-guard';
