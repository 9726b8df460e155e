/** Everything the operations read and write, in one place. */
import type { Clock } from '../clock';
import type { Agreements } from '../contracts/agreements';
import type { Contracts } from '../contracts/contracts';
import type { PageTokens } from '../contracts/entitlement-pages';
import type { RateLimiter } from '../contracts/rate-limiter';
import type { Faults } from '../faults/faults';
import type { RegisterUsageKeys } from '../register-usage-jwt';
import type { WindowOptions } from '../rules/windows';
import type { EmulatorProduct, EntitlementSettings } from '../types';
import type { Buyers } from './buyers';
import type { Ledger } from './ledger';
import type { Tokens } from './tokens';

export interface EmulatorState {
  region: string;
  clock: Clock;
  products: Map<string, Required<EmulatorProduct>>;
  buyers: Buyers;
  tokens: Tokens;
  ledger: Ledger;
  faults: Faults;
  keys: RegisterUsageKeys;
  windows: WindowOptions;
  finalUsageWindowMs: number;
  enforceLicenseStart: boolean;
  disabledOperations: Set<string>;
  contracts: Contracts;
  agreements: Agreements;
  /** Current GetEntitlements settings (changed through the admin API). */
  entitlementSettings: EntitlementSettings;
  entitlementLimiter: RateLimiter;
  entitlementPages: PageTokens;
  /** The seller (proposer) of every agreement. */
  sellerAccountId: string;
}

/** Per-call facts taken from the HTTP request. */
export interface CallContext {
  now: number;
  /** Region of the SigV4 credential scope, when the request was signed. */
  signedRegion?: string;
  accessKeyId?: string;
}

export interface OperationResult {
  output: unknown;
  /** Number of records in the call (BatchMeterUsage / MeterUsage), for inspection. */
  records?: number;
}

export type Operation = (input: unknown, state: EmulatorState, ctx: CallContext) => OperationResult;
