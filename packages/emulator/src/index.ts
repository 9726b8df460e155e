export { startEmulator } from './start-emulator';
export { followEmulatorClock, type FollowClockOptions, type FollowedClock } from './clock-follower';
export type { ClockView } from './admin/routes';
export { MAX_SPEED, describeEmulatedTime, describeSpeed } from './clock';
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
export { batchDeadline, type WindowOptions } from './rules/windows';
