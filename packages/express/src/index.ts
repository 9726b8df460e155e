import './request';

export { meterkit, type MeterkitMiddleware } from './meterkit';
export type { LifecycleOptions, MeterkitOptions, RegistrationOptions } from './options';
export type { CustomerRecord, Identified, MeterkitError, RegisteredAction, RequestMeter, SubscriptionEvent } from '@meterkit/core';
