// The application around @meterkit/core's README examples.
declare const createMetering: typeof import('@meterkit/core').createMetering;
declare const metering: import('@meterkit/core').Metering;
declare const token: string;
declare function alert(message: unknown): void;
declare const log: { warn(...values: unknown[]): void };
