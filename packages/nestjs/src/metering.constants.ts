/** Injection token of the core `Metering` instance; inject it with `@InjectMetering()`. */
export const METERING = Symbol('meterkit:metering');

/** Injection token of the `MeteringModule` options. */
export const METERING_MODULE_OPTIONS = Symbol('meterkit:module-options');

/** @internal The resolved registration route of one MeteringModule. */
export const REGISTRATION_ROUTE = Symbol('meterkit:registration-route');

/** @internal Metadata key of `@Metered()`. */
export const METERED_METADATA = 'meterkit:metered';
