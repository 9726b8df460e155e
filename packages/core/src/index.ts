export { createMetering, Metering } from './metering';
export type { TotalInput } from './meter/final-totals';
export type { MeteringOptions } from './options';
export type { MeteringStatus, PendingHour } from './status';
export { MeterkitError, ErrorCodes, isMeterkitError, type ErrorCode, type MeterkitErrorOptions } from './errors';
export type { MeteringEvents, MeteringEventName, MeteringListener } from './events';
export { consoleLogger, silentLogger, mask, type Logger } from './logger';

export { isContract, type ProductConfig, type Product, type IdentityMode, type PricingModel, type IncludedConfig, type IncludedAllowance } from './model/product';
export {
  customerKey,
  type CustomerIdentity,
  type LicenseIdentity,
  type LegacyIdentity,
  type ProductIdentity,
  type CustomerRecord,
  type CustomerStatus,
} from './model/customer';
export { tagsKey, type Tags, type Allocation, type FrozenUsage, type FinalTotal, type UsageDelta } from './model/usage';
export { AwsLimits } from './model/limits';
export { hourOf, submissionDeadline } from './model/hours';

export { RequestMeter, type RecordOptions } from './meter/request-meter';

export type { FlushReport } from './send/flush-report';
export type { FlushRequest } from './send/flusher';
export type { RetryPolicy } from './send/backoff';
export { classifyError, type ErrorClass } from './aws/classify-error';
export { createMeteringClient, type AwsOptions } from './aws/metering-client';
export { AwsCallTimeoutError, DEFAULT_AWS_CALL_TIMEOUT_MS } from './aws/call-timeout';

export {
  recordId,
  TERMINAL_STATES,
  BATCH_ID_RETENTION_MS,
  REDRIVABLE_STATES,
  type UsageStore,
  type StoredRecord,
  type RecordState,
  type TerminalState,
  type AddUsageResult,
  type SetTotalResult,
  type ClaimRequest,
  type Settlement,
  type Release,
  type RecordQuery,
  type StoreStats,
  type HourStats,
  type CustomerWriteCondition,
  type CustomerFilter,
  type CustomerQuery,
} from './store/usage-store';
/** Paging the customer registry (findCustomers(), or listCustomers() for stores without it). */
export { customerPages, licenseIdOf, customerLicenseId, matchesCustomerFilter, CUSTOMER_PAGE_SIZE } from './store/customer-pages';
export { MemoryStore } from './store/memory-store';
export { SqliteStore } from './store/sqlite/sqlite-store';

export { shouldCommit, finishMeter, type CommitPolicy } from './http/commit-policy';
export { settleOnFinish, watchServerResponses, type ResponseSettler, type SettlingResponse } from './http/settle-on-finish';
export { reserveRequestSlot } from './http/request-slots';
export { knownMeterForRequest, meterForRequest, type Identified, type MeterLookup } from './http/identify';
export {
  handleRegistration,
  hookFailedResult,
  parseForm,
  tokenFromForm,
  registrationError,
  rateLimitedResult,
  TOKEN_FIELD,
  OFFER_TYPE_FIELD,
  DEFAULT_REGISTRATION_BODY_BYTES,
  type RegistrationRouteOptions,
  type RegistrationResult,
  type RegisteredAction,
} from './http/registration-route';
export { FixedWindowLimiter } from './http/rate-limit';
// From the files, not ./store/sqlite: its index declares the schema, whose types name better-sqlite3's.
export type { SqliteStoreOptions, SqliteSynchronous } from './store/sqlite/sqlite-store';
export type { SqliteConnection } from './store/sqlite/connection';
/** Building blocks for store implementations: the frozen snapshot every store must build identically. */
export {
  frozenUsageFromAllocations,
  allocationRowsOf,
  sameFrozenUsage,
  assertStorableDelta,
  type AllocationRow,
} from './store/frozen-usage';
/** Building blocks for EntitlementStore implementations: the metered part above what is included, the checks. */
export { meteredAbove, meterUses, allowanceAdditions, assertStorableUse, assertStorableEntitlementSet, allowanceCounterId } from './store/allowance';
export type { AllowanceAddition } from './store/allowance';
export { nextSendSlot, assertSendSlotRequest, extendSendSlotRing, assertExtendSendSlotRequest, type SendSlotDecision } from './send/send-slot-ring';

export { Lifecycle, type SubscriptionChange, type SubscriptionEvent, type ApplyOutcome } from './lifecycle/lifecycle';
export {
  parseEventBridgeEvent,
  parseLegacyNotification,
  normalizeLicenseArn,
  EVENT_SOURCE,
  type LifecycleEvent,
  type LifecycleChange,
} from './lifecycle/marketplace-event';
export { SnsVerifier, parseSnsMessage, snsStringToSign, isAwsSnsCertificateUrl, type SnsMessage, type SnsVerifierOptions } from './lifecycle/sns-message';
export {
  LifecycleReceiver,
  createLifecycleHandler,
  type LambdaLifecycleResult,
  type LifecycleRouteOptions,
  type SnsRouteOptions,
  type DeliveryRequest,
  type LifecycleResult,
} from './lifecycle/lifecycle-receiver';
export { MARKETPLACE_SNS_ACCOUNT } from './lifecycle/sns-topic';
export { MAX_FUTURE_SKEW_MS } from './lifecycle/event-time';
export { createFlushHandler, type FlushContext, type FlushHandlerOptions } from './serverless';
export {
  StatusPage,
  type StatusPageOptions,
  type StatusPageRequest,
  type StatusPageResponse,
  type StatusPageData,
  type UsageBar,
  type RecentError,
  type ContractsOverview,
  type StatusPageEntitlements,
} from './http/status-page';
export { readableTime, readableDuration, utcMinute } from './http/status-page/time';
export { instrumentMetering, type InstrumentOptions, type Instrumentation } from './telemetry/instrument';
export type {
  TelemetryAttributes,
  TelemetryBatchObservableCallback,
  TelemetryBatchObservableResult,
  TelemetryCounter,
  TelemetryHistogram,
  TelemetryInstrumentOptions,
  TelemetryMeter,
  TelemetryObservable,
} from './telemetry/meter-types';
export { createHealthCheck, type HealthCheck, type HealthCheckOptions, type HealthReport } from './telemetry/health';
export { productIdentity } from './product/product-identity';
export { clientTokenFor } from './product/client-token';
export { METER_USAGE_WINDOW } from './product/meter-usage-window';
export type { WindowRules } from './model/hours';
export type { CustomerHour, CustomerPage, CustomerRow, StateTotals } from './http/status-page/customers';
export type { HeaderValue } from './http/status-page/access';
export type { EntitlementOptions } from './product/entitlement-options';
export type { EntitlementStatus } from './product/entitlement';
export { verifyRegisterUsageSignature, type ExpectedClaims } from './product/verify-signature';
export { entitlementGate, type EntitlementGate, type EntitlementSource, type GateResult } from './product/entitlement-gate';
export {
  resolveRegistrationRoute,
  resolveLifecycleRoute,
  resolveStatusPageRoute,
  resolveEntitlementGate,
  resolveCommitPolicy,
  resolveManageLifecycle,
  warnDeprecatedOption,
  type ResolvedRegistrationRoute,
  type EntitlementGateOptions,
} from './http/route-options';
export type { DimensionEntitlement, EntitlementSet, EntitlementView } from './contracts/entitlement-set';
export { checkEntitlement, type EntitlementCheckResult, type EntitlementRequirement } from './contracts/entitlement-check';
export { checkRouteEntitlement, resolveEntitlementRequirement, type RequireEntitlementOptions, type RouteEntitlementResult } from './http/route-entitlement';
export type { ContractEntitlementsOptions } from './contracts/entitlement-options';
export { createEntitlementClient, ENTITLEMENT_REGION } from './contracts/entitlement-client';
export { periodStart, includedAmount } from './contracts/included-allowance';
export { isEntitlementStore, type AllowanceCounter, type AddUsageAboveIncludedResult, type EntitlementStore, type IncludedUse } from './store/entitlement-store';
