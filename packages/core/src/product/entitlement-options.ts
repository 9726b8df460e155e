import { ErrorCodes, MeterkitError } from '../errors';
import { AwsLimits, PRODUCT_CODE_PATTERN } from '../model/limits';

/** RegisterUsage at start-up, for paid container products (docs/products.md). */
export interface EntitlementOptions {
  /** The container product's code. */
  readonly productCode: string;
  /** The public key version to verify the answer with (AWS issues version 1 when the product is created). */
  readonly publicKeyVersion: number;
  /** AWS's public key (PEM, SPKI) for `publicKeyVersion`. Give this or `publicKeys`. */
  readonly publicKeyPem?: string;
  /** AWS's public keys (PEM, SPKI) by version; the one for `publicKeyVersion` is used. */
  readonly publicKeys?: Readonly<Record<number, string>>;
  /** How long throttling, AWS faults and network errors are retried. Default 1 800 000 (30 minutes, AWS's guidance). */
  readonly retryForMs?: number;
  /** First backoff delay. Default 1000; doubles up to `maxDelayMs`, full jitter. */
  readonly baseDelayMs?: number;
  /** Default 60 000. */
  readonly maxDelayMs?: number;
}

export interface ResolvedEntitlementOptions {
  readonly productCode: string;
  readonly publicKeyVersion: number;
  readonly publicKeyPem: string;
  readonly retryForMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `entitlement: ${message}`);
}

function duration(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) fail(`${name} must be an integer between 0 and ${max}.`);
  return value;
}

/** Validates the entitlement options once. Throws ERR_METERKIT_OPTIONS. */
export function resolveEntitlementOptions(options: EntitlementOptions): ResolvedEntitlementOptions {
  if (options === null || typeof options !== 'object') fail('pass { productCode, publicKeyVersion, publicKeyPem | publicKeys }.');
  const code = options.productCode;
  if (typeof code !== 'string' || code.length === 0 || code.length > AwsLimits.productCodeMaxLength || !PRODUCT_CODE_PATTERN.test(code)) {
    fail(`productCode ${JSON.stringify(code)} is not a product code AWS accepts.`);
  }
  const version = options.publicKeyVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) fail('publicKeyVersion must be an integer of at least 1.');
  const pem = options.publicKeyPem ?? options.publicKeys?.[version];
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN PUBLIC KEY-----')) {
    fail(`no PEM public key (-----BEGIN PUBLIC KEY-----) for version ${version}: pass publicKeyPem or publicKeys[${version}].`);
  }
  return {
    productCode: code,
    publicKeyVersion: version,
    publicKeyPem: pem,
    retryForMs: duration('retryForMs', options.retryForMs, 30 * 60_000, 24 * 3_600_000),
    baseDelayMs: duration('baseDelayMs', options.baseDelayMs, 1000, 600_000),
    maxDelayMs: duration('maxDelayMs', options.maxDelayMs, 60_000, 3_600_000),
  };
}
