/**
 * The part of an OpenTelemetry `Meter` (from `@opentelemetry/api` 1.x) that meterkit uses. meterkit's public types
 * name these instead of `@opentelemetry/api`'s, so a consumer without that optional peer still type-checks; a
 * `Meter` from `@opentelemetry/api` is assignable to `TelemetryMeter`.
 */
export type TelemetryAttributes = Record<string, string | number | boolean | undefined>;

export interface TelemetryInstrumentOptions {
  readonly description?: string;
  readonly unit?: string;
}

export interface TelemetryCounter {
  add(value: number, attributes?: TelemetryAttributes): void;
}

export interface TelemetryHistogram {
  record(value: number, attributes?: TelemetryAttributes): void;
}

/** An observable instrument (e.g. a gauge), observed through a batch callback. */
export interface TelemetryObservable {
  addCallback(callback: never): void;
  removeCallback(callback: never): void;
}

export interface TelemetryBatchObservableResult {
  observe(observable: TelemetryObservable, value: number, attributes?: TelemetryAttributes): void;
}

export type TelemetryBatchObservableCallback = (result: TelemetryBatchObservableResult) => void | Promise<void>;

export interface TelemetryMeter {
  createCounter(name: string, options?: TelemetryInstrumentOptions): TelemetryCounter;
  createHistogram(name: string, options?: TelemetryInstrumentOptions): TelemetryHistogram;
  createObservableGauge(name: string, options?: TelemetryInstrumentOptions): TelemetryObservable;
  addBatchObservableCallback(callback: TelemetryBatchObservableCallback, observables: TelemetryObservable[]): void;
  removeBatchObservableCallback(callback: TelemetryBatchObservableCallback, observables: TelemetryObservable[]): void;
}

/** The part of `@opentelemetry/api` meterkit loads when it is installed. */
export interface OpenTelemetryApi {
  readonly metrics: { getMeter(name: string): TelemetryMeter };
}
