import './request';

export { meterkit, type MeterkitMiddleware } from './meterkit';
export type { MeterkitOptions, RegistrationOptions } from './options';
export type { CustomerRecord, Identified, MeterkitError, RegisteredAction, RequestMeter } from '@meterkit/core';
