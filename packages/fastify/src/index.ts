import { meterkit } from './plugin';

export { meterkit, meterkit as default } from './plugin';
export type { EntitlementGateOptions, MeterkitPluginOptions, IdentifyHook, StatusPageRouteOptions } from './options';
export type { RouteEntitlement, RouteMetering } from './types';
export type { LifecycleRouteOptions, SubscriptionEvent } from '@meterkit/core';

// The fastify-plugin convention for CommonJS: `require('@meterkit/fastify')` is the plugin itself, and its `default`
// and `meterkit` properties name it too, so `fastify.register(require('@meterkit/fastify'))` works as well as the
// default and named imports. The ES module entry re-exports `default` and `meterkit`.
module.exports = Object.defineProperty(Object.assign(meterkit, { default: meterkit, meterkit }), '__esModule', { value: true });
