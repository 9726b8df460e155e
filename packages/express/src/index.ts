import './request';

export { meterkit, type MeterkitMiddleware } from './meterkit';
export type { EntitlementGateOptions, LifecycleOptions, MeterkitOptions, RegistrationOptions, StatusPageRouteOptions } from './options';
export type { CustomerRecord, Identified, MeterkitError, RegisteredAction, RequestMeter, RequireEntitlementOptions, SubscriptionEvent } from '@meterkit/core';
