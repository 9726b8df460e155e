import {
  finishMeter,
  knownMeterForRequest,
  meterForRequest,
  settleOnFinish,
  watchServerResponses,
  type Identified,
  type RequestMeter,
  type ResponseSettler,
} from '@meterkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import { addEntitlementGate, registerOnReady } from './entitlement-gate';
import { resolvePluginOptions, type MeterkitPluginOptions } from './options';
import { registerLifecycleRoute } from './lifecycle-route';
import { registerRegistrationRoute } from './registration-route';
import { isOwnRoute } from './own-routes';
import { recordRouteUsage, routeUsage, type RouteUsage } from './route-metering';
import { registerStatusPageRoute } from './status-page-route';
import { subscribeHook } from './subscription-hook';
import './types';

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** A route's hooks live in arrays: the ones it declared, or none. */
function hooksOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

async function meterkitPlugin(fastify: FastifyInstance, options: MeterkitPluginOptions): Promise<void> {
  const { metering, identify, identifyHook, commitPolicy, registration, lifecycle, onSubscriptionChange, manageLifecycle, statusPage, entitlementGate } =
    resolvePluginOptions(options);

  fastify.decorateRequest('meter', null);
  fastify.decorateRequest('meteringError', null);

  /** Commits or discards the meter exactly once, after recording the route's usage; request.meter is null afterwards. */
  const settle = (request: FastifyRequest, reply: FastifyReply, aborted: boolean, usage: RouteUsage | undefined): void => {
    const meter = request.meter;
    if (meter === null) return;
    request.meter = null;
    if (usage !== undefined) recordRouteUsage(meter, usage, request, reply);
    finishMeter(meter, reply.statusCode, aborted, commitPolicy);
  };

  /**
   * A client that leaves before the response is complete never finishes it. Its meter is discarded unless
   * commitAborted bills it, so only then is a request's response watched for 'close' (one listener shared by every
   * request).
   */
  const settleClosed = commitPolicy?.commitAborted === true;
  watchServerResponses();

  /** Each route's settler, made when the route is declared: the usage it records, then the policy's decision. */
  const settlerFor = (usage: RouteUsage | undefined): ResponseSettler<FastifyReply> => ({
    settle(reply: FastifyReply, finished: boolean): void {
      const request = reply.request;
      settle(request, reply, !finished || request.raw.aborted, usage);
    },
  });

  const bind = (request: FastifyRequest, reply: FastifyReply, meter: RequestMeter, settler: ResponseSettler<FastifyReply>): void => {
    request.meter = meter;
    settleOnFinish(reply.raw, settler, reply, settleClosed);
  };

  const resolve = async (request: FastifyRequest, reply: FastifyReply, identified: Identified, settler: ResponseSettler<FastifyReply>): Promise<void> => {
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) {
      request.meteringError = error;
      const level = error.code === 'ERR_METERKIT_STORE' ? 'error' : 'debug';
      request.log[level]({ code: error.code }, '@meterkit/fastify: request not metered');
    }
    if (meter !== undefined) bind(request, reply, meter, settler);
  };

  /**
   * The route's identify hook. A callback hook: a customer this instance already knows is bound without a promise
   * (Metering.tryMeter).
   */
  const identifyHookFor = (settler: ResponseSettler<FastifyReply>) =>
    function meterkitIdentify(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      let identified: Identified | Promise<Identified>;
      try {
        identified = identify(request);
      } catch (error) {
        return done(error as Error);
      }
      if (isPromise(identified)) {
        Promise.resolve(identified)
          .then((who) => resolve(request, reply, who, settler))
          .then(() => done(), done);
        return;
      }
      const known = knownMeterForRequest(metering, identified);
      if (known === undefined) {
        resolve(request, reply, identified, settler).then(() => done(), done);
        return;
      }
      if (known !== null) bind(request, reply, known, settler);
      done();
    };

  /**
   * The route's handler with identify as its first step, for a route whose identify would be its only preHandler:
   * the same point of the request (after the app's instance-wide preHandler hooks, right before the handler) without
   * a hook stage Fastify runs for it. A known customer is bound and the handler called at once; otherwise the
   * handler runs once the customer is resolved, and a handler that answers later through `reply` (returning
   * undefined) is waited for as Fastify waits for `return reply`.
   */
  const identifyingHandler = (handler: RouteHandlerMethod, settler: ResponseSettler<FastifyReply>): RouteHandlerMethod =>
    function meterkitIdentifyThenHandle(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const identified = identify(request);
      if (!isPromise(identified)) {
        const known = knownMeterForRequest(metering, identified);
        if (known !== undefined) {
          if (known !== null) bind(request, reply, known, settler);
          return handler.call(this, request, reply);
        }
      }
      return Promise.resolve(identified)
        .then((who) => resolve(request, reply, who, settler))
        .then(() => {
          const result: unknown = handler.call(this, request, reply);
          return result === undefined && !reply.sent ? reply : result;
        });
    };

  // Each route's decisions are taken once, when it is declared: its config.metering is checked, and it gets its own
  // identify step (the first hook of its identifyHook stage, or with the default identifyHook and no preHandler of
  // its own the first step of its handler) and its own settler, with the usage it records, which settles its
  // requests once their response is done (the core's settleOnFinish: no hook stage). The plugin's own routes
  // (registration, lifecycle deliveries, the status page) get neither: they are never metered. Requests never read
  // the route's options (Fastify builds that object on every read).
  fastify.addHook('onRoute', (route) => {
    const usage = routeUsage(route, metering);
    if (isOwnRoute(route)) return;
    const settler = settlerFor(usage);
    const hooks = route as unknown as Record<string, unknown>;
    const own = hooksOf(hooks[identifyHook]);
    if (identifyHook === 'preHandler' && own.length === 0) route.handler = identifyingHandler(route.handler, settler);
    else hooks[identifyHook] = [identifyHookFor(settler), ...own];
  });

  if (registration !== undefined) registerRegistrationRoute(fastify, metering, registration);
  if (lifecycle !== undefined) registerLifecycleRoute(fastify, metering, lifecycle);
  const statusPaths = statusPage === undefined ? [] : registerStatusPageRoute(fastify, metering, statusPage);
  if (entitlementGate !== undefined) {
    const exempt = new Set([...statusPaths, ...(registration === undefined ? [] : [registration.path]), ...(lifecycle === undefined ? [] : [lifecycle.path])]);
    addEntitlementGate(fastify, metering, exempt);
    if (entitlementGate.register) registerOnReady(fastify, metering);
  }
  if (onSubscriptionChange !== undefined) {
    const unsubscribe = subscribeHook(metering, onSubscriptionChange, fastify.log);
    fastify.addHook('onClose', async () => unsubscribe());
  }

  if (manageLifecycle) {
    fastify.addHook('onReady', async () => {
      metering.start();
    });
    fastify.addHook('onClose', async () => {
      await metering.close();
    });
  }
}

/**
 * AWS Marketplace metering for Fastify: `request.meter`, per-route `config.metering`, the registration,
 * lifecycle and status routes, the entitlement gate, and the engine's lifecycle (started on ready, persisted and
 * closed on close).
 */
export const meterkit = fp(meterkitPlugin, { fastify: '5.x', name: '@meterkit/fastify' });
