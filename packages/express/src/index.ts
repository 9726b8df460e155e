import './request';

export { meterkit, type MeterkitMiddleware } from './meterkit';
export type { MeterkitOptions, RegistrationOptions } from './options';
export { RATE_LIMITED } from './registration-route';
export type { CustomerRecord, Identified, MeterkitError, RegisteredAction, RequestMeter } from '@meterkit/core';
