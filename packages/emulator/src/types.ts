/** Public types of @meterkit/emulator. */
import type { EmulatorClock } from './clock';
import type { UsageAllocation } from './rules/model-constraints';

export type { EmulatorClock } from './clock';
export type { UsageAllocation, Tag } from './rules/model-constraints';

export interface EmulatorProduct {
  productCode: string;
  /** Metered dimensions (BatchMeterUsage / MeterUsage). May be empty for a `'contract'` product. */
  dimensions: string[];
  /** 'license' (Concurrent Agreements: CustomerAWSAccountId + LicenseArn, no ProductCode) or 'legacy' (ProductCode + CustomerIdentifier). Default 'license'. */
  identity?: 'license' | 'legacy';
  /**
   * How the listing is priced. Default 'subscription' (no contracts, GetEntitlements answers nothing for it).
   * 'contract' and 'contract-with-consumption' buyers subscribe with `subscribe({ contract })`.
   */
  pricing?: 'subscription' | 'contract' | 'contract-with-consumption';
  /** Contract products: the contract dimension API names a contract may hold (required, at least one). Default []. */
  contractDimensions?: string[];
}

/** What a contract entitles to, per contract dimension: integers → IntegerValue, other numbers → DoubleValue. */
export type ContractDimensions = Record<string, number | boolean | string>;

export interface ContractOptions {
  dimensions: ContractDimensions;
  /** Contract duration in months (1..60). Default 12. */
  durationMonths?: number;
  /** The buyer opted into auto-renewal: at the end the contract renews instead of expiring. Default false. */
  autoRenew?: boolean;
}

export interface ContractView {
  dimensions: ContractDimensions;
  durationMonths: number;
  autoRenew: boolean;
  /** Start of the current term (ms epoch). */
  startsAt: number;
  /** End of the current term (ms epoch, whole seconds): the entitlements' ExpirationDate. */
  expiresAt: number;
  status: 'active' | 'cancelled' | 'expired' | 'replaced';
}

/** GetEntitlements behaviour (StartEmulatorOptions.entitlements, POST /_emulator/entitlements/settings). */
export interface EntitlementSettings {
  /** Entitlements per page when the request has no MaxResults (1..25). Default 25. */
  pageSize: number;
  /** Put an empty page that still carries NextToken before every page of results. Default false. */
  emptyPages: boolean;
  /** Emulated milliseconds between a contract change and GetEntitlements reflecting it. Default 0. */
  lagMs: number;
  /** GetEntitlements calls per emulated second above which ThrottlingException answers (AWS's quota: 20). Default 20. */
  throttlePerSecond: number;
}

/** One stored entitlement (GET /_emulator/entitlements): the current values, whether or not GetEntitlements shows them yet. */
export interface EntitlementRow {
  productCode: string;
  dimension: string;
  customerAWSAccountId: string;
  licenseArn?: string;
  customerIdentifier?: string;
  agreementId: string;
  value: { IntegerValue?: number; DoubleValue?: number; BooleanValue?: boolean; StringValue?: string };
  /** ms epoch. */
  expirationDate: number;
  contractStatus: ContractView['status'];
  /** When GetEntitlements reflects the current state of this contract (its last change plus the lag then set), ms epoch. */
  visibleAt: number;
}

export interface EmulatorEntitlements {
  /** Every contract's entitlements (current values), optionally of one product. */
  list(productCode?: string): EntitlementRow[];
  settings(): EntitlementSettings;
  /** Changes some settings; answers the new ones. */
  configure(s: Partial<EntitlementSettings>): EntitlementSettings;
}

export interface FaultOptions {
  /** Share of API calls answered ThrottlingException (400). */
  throttleRate: number;
  /** Share of API calls answered InternalServiceErrorException (500) before anything is applied. */
  serverErrorRate: number;
  /** Share of BatchMeterUsage records returned in UnprocessedRecords (not applied). */
  unprocessedRate: number;
  /** Delay added before every API call is handled. */
  latencyMs: number;
  /** Share of API calls whose connection is destroyed before anything is applied. */
  resetRate: number;
  /** Share of API calls applied and then answered 500 or reset (the answer is lost, the usage counted). */
  lostAnswerRate: number;
}

export interface WindowsOption {
  batchMeterUsageMs?: number;
  meterUsageMs?: number;
  monthEndCutoffHours?: number;
  futureSkewMs?: number;
}

export interface EventsTarget {
  url: string;
  /** Connection header name (EventBridge API-key connection). Default 'x-api-key'. */
  headerName?: string;
  /** Connection header value; the header is sent only when a value is set. */
  headerValue?: string;
  /** Retries after the first attempt on 5xx or network errors; default 3. */
  retries?: number;
  /** Delay before the first retry, doubled each time; default 50 ms. */
  retryDelayMs?: number;
  /** Per-attempt timeout; default 5000 ms (EventBridge API destinations). */
  timeoutMs?: number;
}

export interface StartEmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  products?: EmulatorProduct[];
  seed?: number;
  faults?: Partial<FaultOptions>;
  /** Initial emulated time. Default: real time. */
  now?: number | Date;
  /**
   * Accelerated time for watching a running app's usage get billed: emulated milliseconds per real millisecond
   * (120: a real second is two emulated minutes, an hour closes in 30 s). Above 0, at most 36 000. Default 1.
   * Everything the emulator dates follows it: windows, token lifetimes, the final-usage window, event times.
   */
  speed?: number;
  /** The real time the emulated clock runs with (ms epoch). Default Date.now; tests inject their own. */
  timeSource?: () => number;
  windows?: WindowsOption;
  tokenTtlMs?: number;
  finalUsageWindowMs?: number;
  events?: EventsTarget;
  /** `topicAccountId`: the account in the topic ARNs, default 287250355862 (AWS Marketplace's, as AWS publishes them). */
  sns?: { url: string; topicAccountId?: string };
  logger?: (line: string) => void;
  /** Seller account id used in events and SNS topic ARNs. Default '111111111111'. */
  sellerAccountId?: string;
  /** Operations answering DisabledApiException (as if disabled in this region). */
  disabledOperations?: string[];
  /** Refuse records whose hour precedes the hour the license started (InvalidLicenseException). Default false. */
  enforceLicenseStart?: boolean;
  /** GetEntitlements paging, lag and throttling; see EntitlementSettings for the defaults. */
  entitlements?: Partial<EntitlementSettings>;
}

export interface Subscription {
  productCode: string;
  accountId: string;
  agreementId: string;
  licenseArn?: string;
  customerIdentifier?: string;
  token: string;
  registration?: { status: number; location?: string; body: string };
  /** Contract products: the buyer's contract. */
  contract?: ContractView;
}

export interface SubscribeOptions {
  productCode: string;
  accountId?: string;
  registrationUrl?: string;
  offerType?: 'free-trial';
  /** Legacy products only: the payment fails (SNS subscribe-fail, no usable customer). */
  fail?: boolean;
  /** Required for contract products, refused for subscription products: what the buyer bought. */
  contract?: ContractOptions;
}

export interface AmendOptions {
  /** New values of some contract dimensions (others are kept); quantities may only go up. */
  dimensions?: ContractDimensions;
}

export interface RenewOptions {
  /** Contract products: the renewed term's values (a renewal may lower them); default the current ones. */
  dimensions?: ContractDimensions;
}

export interface AcceptedRecord {
  operation: 'BatchMeterUsage' | 'MeterUsage';
  region: string;
  productCode: string;
  licenseArn?: string;
  customerAWSAccountId?: string;
  customerIdentifier?: string;
  dimension: string;
  /** Start of the UTC hour (ms epoch). */
  hour: number;
  /** The exact timestamp sent (ms epoch). */
  timestamp: number;
  quantity: number;
  allocations?: UsageAllocation[];
  meteringRecordId: string;
  receivedAt: number;
}

export interface TotalRow {
  key: string;
  productCode: string;
  licenseArn?: string;
  customerIdentifier?: string;
  customerAWSAccountId?: string;
  dimension: string;
  quantity: number;
}

export interface CallRow {
  operation: string;
  at: number;
  records?: number;
  status: number;
  error?: string;
  bytes: number;
}

export interface RejectedRow {
  operation: string;
  error: string;
  message: string;
  at: number;
}

export interface DuplicateRow {
  key: string;
  acceptedQuantity: number;
  attemptedQuantity: number;
  at: number;
}

export interface EventRow {
  id: string;
  /** EventBridge detail-type, or `SNS <action>` for legacy notifications. */
  detailType: string;
  target: string;
  status: number | 'error';
  attempts: number;
  body: unknown;
  error?: string;
}

export interface Inspection {
  records(): AcceptedRecord[];
  totals(): TotalRow[];
  totalFor(q: { licenseArn?: string; customerIdentifier?: string; customerAWSAccountId?: string; productCode?: string; dimension?: string }): number;
  calls(op?: string): CallRow[];
  rejected(): RejectedRow[];
  duplicates(): DuplicateRow[];
  events(): EventRow[];
}

export interface EmulatorFaults {
  set(f: Partial<FaultOptions>): void;
  reset(): void;
  /** Make the next `count` calls of `op` (or any op with '*') fail with an error name, 'reset', 'lost-answer' (apply, answer 500) or 'lost-answer-reset' (apply, destroy the socket). */
  failNext(op: string, error: string, count?: number): void;
  current(): FaultOptions;
}

export interface BuyerView {
  productCode: string;
  identity: 'license' | 'legacy';
  accountId: string;
  agreementId: string;
  agreementIds: string[];
  licenseArn?: string;
  customerIdentifier?: string;
  status: 'active' | 'deprovisioned' | 'failed';
  createdAt: number;
  deprovisionedAt?: number;
  offerType?: 'free-trial';
}

export interface Emulator {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly clock: EmulatorClock;
  readonly faults: EmulatorFaults;
  addProduct(p: EmulatorProduct): void;
  products(): EmulatorProduct[];
  subscribe(o: SubscribeOptions): Promise<Subscription>;
  cancel(id: string): Promise<void>;
  renew(id: string, o?: RenewOptions): Promise<Subscription>;
  replace(id: string): Promise<Subscription>;
  /** Without dimensions: the amendment events only. With dimensions (contracts): raises the values, then the events. */
  amend(id: string, o?: AmendOptions): Promise<void>;
  /** Contracts: the term ends without renewal (what the clock does at expiresAt when autoRenew is off). */
  expire(id: string): Promise<void>;
  readonly entitlements: EmulatorEntitlements;
  /** Waits for deliveries started by time-driven steps (contract expiry or renewal, SNS unsubscribe-success). */
  idle(): Promise<void>;
  buyers(): BuyerView[];
  issueToken(licenseArnOrCustomerIdentifier: string): string;
  publicKeyPem(version?: number): string;
  rotatePublicKey(): number;
  readonly inspect: Inspection;
  reset(): void;
  close(): Promise<void>;
}
