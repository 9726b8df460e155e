export { startEmulator } from './start-emulator';
export type {
  AcceptedRecord,
  BuyerView,
  CallRow,
  DuplicateRow,
  Emulator,
  EmulatorClock,
  EmulatorFaults,
  EmulatorProduct,
  EventRow,
  EventsTarget,
  FaultOptions,
  Inspection,
  RejectedRow,
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
export { MODELED_ERRORS, statusFor } from './rules/errors';
export { batchDeadline } from './rules/windows';
