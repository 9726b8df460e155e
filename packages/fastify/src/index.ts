export { meterkit, meterkit as default } from './plugin';
export type { EntitlementGateOptions, MeterkitPluginOptions, IdentifyHook, StatusPageRouteOptions } from './options';
export type { RouteMetering } from './types';
export type { LifecycleRouteOptions, SubscriptionEvent } from '@meterkit/core';
