export { meterkit, meterkit as default } from './plugin';
export type { MeterkitPluginOptions, IdentifyHook } from './options';
export type { RouteMetering } from './types';
export type { LifecycleRouteOptions, SubscriptionEvent } from '@meterkit/core';
