export { startEmulator } from './start-emulator';
export { followEmulatorClock, type FollowClockOptions, type FollowedClock } from './clock-follower';
export type { ClockView } from './admin/routes';
export { MAX_SPEED, describeEmulatedTime, describeSpeed } from './clock';
export type {
  AcceptedRecord,
  AmendOptions,
  BuyerView,
  CallRow,
  ContractDimensions,
  ContractOptions,
  ContractView,
  DuplicateRow,
  Emulator,
  EmulatorClock,
  EmulatorEntitlements,
  EmulatorFaults,
  EmulatorProduct,
  EntitlementRow,
  EntitlementSettings,
  EventRow,
  EventsTarget,
  FaultOptions,
  Inspection,
  RejectedRow,
  RenewOptions,
  StartEmulatorOptions,
  SubscribeOptions,
  Subscription,
  Tag,
  TotalRow,
  UsageAllocation,
  WindowsOption,
} from './types';
export { verifyRegisterUsageSignature, type RegisterUsageClaims } from './register-usage-jwt';
export { verifySnsNotification, snsStringToSign, type SnsNotification, type SnsAction } from './lifecycle/sns-notifications';
export type { MarketplaceEvent } from './lifecycle/eventbridge-events';
export { mulberry32 } from './faults/prng';
export { AGREEMENT_ERROR_STATUS, ENTITLEMENT_ERRORS, MODELED_ERRORS, statusFor } from './rules/errors';
export { DEFAULT_ENTITLEMENT_SETTINGS } from './contracts/entitlement-settings';
export { batchDeadline, type WindowOptions } from './rules/windows';
