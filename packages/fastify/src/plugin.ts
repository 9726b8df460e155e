import { finishMeter, knownMeterForRequest, meterForRequest, type Identified, type RequestMeter } from '@meterkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteHandlerMethod, RouteOptions } from 'fastify';
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

/**
 * Aborted: the client went away before the response was completely handed to the OS (the request was
 * aborted, end() was never reached, or the socket was destroyed before 'finish').
 */
function incomplete(request: FastifyRequest, reply: FastifyReply): boolean {
  return request.raw.aborted || !reply.raw.writableEnded || (reply.raw.destroyed && !reply.raw.writableFinished);
}

/** The reply whose meter a raw response settles if its client leaves first (only with commitAborted). */
const REPLY = Symbol('meterkit.reply');
/** The usage its route records, for the same settle. */
const USAGE = Symbol('meterkit.usage');
type Watched = FastifyReply['raw'] & { [REPLY]?: FastifyReply; [USAGE]?: RouteUsage };

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
   * A client that leaves before the response is complete never reaches onResponse. Its meter is discarded unless
   * commitAborted bills it, so only then does a request need a listener: one function shared by every request.
   */
  const settlesAborted = commitPolicy?.commitAborted === true;
  function settleAborted(this: Watched): void {
    const reply = this[REPLY];
    const usage = this[USAGE];
    this[REPLY] = undefined;
    if (reply !== undefined && !this.writableEnded) settle(reply.request, reply, true, usage);
  }

  const bind = (request: FastifyRequest, reply: FastifyReply, meter: RequestMeter, usage: RouteUsage | undefined): void => {
    request.meter = meter;
    if (!settlesAborted) return;
    const raw = reply.raw as Watched;
    raw[REPLY] = reply;
    raw[USAGE] = usage;
    raw.on('close', settleAborted);
  };

  const resolve = async (request: FastifyRequest, reply: FastifyReply, identified: Identified, usage: RouteUsage | undefined): Promise<void> => {
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) {
      request.meteringError = error;
      const level = error.code === 'ERR_METERKIT_STORE' ? 'error' : 'debug';
      request.log[level]({ code: error.code }, '@meterkit/fastify: request not metered');
    }
    if (meter !== undefined) bind(request, reply, meter, usage);
  };

  /**
   * The route's identify hook. A callback hook: a customer this instance already knows is bound without a promise
   * (Metering.tryMeter).
   */
  const identifyHookFor = (usage: RouteUsage | undefined) =>
    function meterkitIdentify(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      let identified: Identified | Promise<Identified>;
      try {
        identified = identify(request);
      } catch (error) {
        return done(error as Error);
      }
      if (isPromise(identified)) {
        Promise.resolve(identified)
          .then((who) => resolve(request, reply, who, usage))
          .then(() => done(), done);
        return;
      }
      const known = knownMeterForRequest(metering, identified);
      if (known === undefined) {
        resolve(request, reply, identified, usage).then(() => done(), done);
        return;
      }
      if (known !== null) bind(request, reply, known, usage);
      done();
    };

  /**
   * The route's handler with identify as its first step, for a route whose identify would be its only preHandler:
   * the same point of the request (after the app's instance-wide preHandler hooks, right before the handler) without
   * a hook stage Fastify runs for it. A known customer is bound and the handler called at once; otherwise the
   * handler runs once the customer is resolved, and a handler that answers later through `reply` (returning
   * undefined) is waited for as Fastify waits for `return reply`.
   */
  const identifyingHandler = (handler: RouteHandlerMethod, usage: RouteUsage | undefined): RouteHandlerMethod =>
    function meterkitIdentifyThenHandle(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const identified = identify(request);
      if (!isPromise(identified)) {
        const known = knownMeterForRequest(metering, identified);
        if (known !== undefined) {
          if (known !== null) bind(request, reply, known, usage);
          return handler.call(this, request, reply);
        }
      }
      return Promise.resolve(identified)
        .then((who) => resolve(request, reply, who, usage))
        .then(() => {
          const result: unknown = handler.call(this, request, reply);
          return result === undefined && !reply.sent ? reply : result;
        });
    };

  const settleHookFor = (usage: RouteUsage | undefined) =>
    function meterkitSettle(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      settle(request, reply, incomplete(request, reply), usage);
      done();
    };

  // Each route's decisions are taken once, when it is declared: its config.metering is checked, and it gets its own
  // identify step (the first hook of its identifyHook stage, or with the default identifyHook and no preHandler of
  // its own the first step of its handler) and its own onResponse hook, with the usage it records. The plugin's own
  // routes (registration, lifecycle deliveries, the status page) get neither: they are never metered. Requests
  // never read the route's options (Fastify builds that object on every read).
  fastify.addHook('onRoute', (route) => {
    const usage = routeUsage(route, metering);
    if (isOwnRoute(route)) return;
    const hooks = route as unknown as Record<string, unknown>;
    const own = hooksOf(hooks[identifyHook]);
    if (identifyHook === 'preHandler' && own.length === 0) route.handler = identifyingHandler(route.handler, usage);
    else hooks[identifyHook] = [identifyHookFor(usage), ...own];
    route.onResponse = [...hooksOf(route.onResponse), settleHookFor(usage)] as RouteOptions['onResponse'];
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
