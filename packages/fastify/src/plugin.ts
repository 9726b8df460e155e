import { finishMeter, knownMeterForRequest, meterForRequest, type Identified, type RequestMeter } from '@meterkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { addEntitlementGate, registerOnReady } from './entitlement-gate';
import { resolvePluginOptions, type MeterkitPluginOptions } from './options';
import { registerLifecycleRoute } from './lifecycle-route';
import { registerRegistrationRoute } from './registration-route';
import { assertRouteMetering, recordRouteUsage } from './route-metering';
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
type Watched = FastifyReply['raw'] & { [REPLY]?: FastifyReply };

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

async function meterkitPlugin(fastify: FastifyInstance, options: MeterkitPluginOptions): Promise<void> {
  const { metering, identify, identifyHook, commitPolicy, registration, lifecycle, onSubscriptionChange, manageLifecycle, statusPage, entitlementGate } =
    resolvePluginOptions(options);
  const statusPaths = new Set<string>();

  fastify.decorateRequest('meter', null);
  fastify.decorateRequest('meteringError', null);
  fastify.addHook('onRoute', (route) => assertRouteMetering(route, metering));

  /** Commits or discards the meter exactly once; request.meter is null afterwards. */
  const settle = (request: FastifyRequest, reply: FastifyReply, aborted: boolean): void => {
    const meter = request.meter;
    if (meter === null) return;
    request.meter = null;
    recordRouteUsage(meter, request, reply);
    finishMeter(meter, reply.statusCode, aborted, commitPolicy);
  };

  /**
   * A client that leaves before the response is complete never reaches onResponse. Its meter is discarded unless
   * commitAborted bills it, so only then does a request need a listener: one function shared by every request.
   */
  const settlesAborted = commitPolicy?.commitAborted === true;
  function settleAborted(this: Watched): void {
    const reply = this[REPLY];
    this[REPLY] = undefined;
    if (reply !== undefined && !this.writableEnded) settle(reply.request, reply, true);
  }

  const bind = (request: FastifyRequest, reply: FastifyReply, meter: RequestMeter): void => {
    request.meter = meter;
    if (!settlesAborted) return;
    (reply.raw as Watched)[REPLY] = reply;
    reply.raw.on('close', settleAborted);
  };

  const resolve = async (request: FastifyRequest, reply: FastifyReply, identified: Identified): Promise<void> => {
    const { meter, error } = await meterForRequest(metering, identified);
    if (error !== undefined) {
      request.meteringError = error;
      const level = error.code === 'ERR_METERKIT_STORE' ? 'error' : 'debug';
      request.log[level]({ code: error.code }, '@meterkit/fastify: request not metered');
    }
    if (meter !== undefined) bind(request, reply, meter);
  };

  // Callback hooks: a customer this instance already knows is bound without a promise (Metering.tryMeter).
  fastify.addHook(identifyHook, (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // Lifecycle deliveries come from AWS, never from a customer, and a registration from a buyer not yet linked: not metered.
    if (lifecycle !== undefined && request.method === 'POST' && request.routeOptions.url === lifecycle.path) return done();
    if (registration !== undefined && request.method === 'POST' && request.routeOptions.url === registration.path) return done();
    // Nor are operators reading the status page.
    if (statusPaths.size > 0 && statusPaths.has(request.routeOptions.url ?? '')) return done();
    let identified: Identified | Promise<Identified>;
    try {
      identified = identify(request);
    } catch (error) {
      return done(error as Error);
    }
    if (isPromise(identified)) {
      Promise.resolve(identified)
        .then((who) => resolve(request, reply, who))
        .then(() => done(), done);
      return;
    }
    const known = knownMeterForRequest(metering, identified);
    if (known === undefined) {
      resolve(request, reply, identified).then(() => done(), done);
      return;
    }
    if (known !== null) bind(request, reply, known);
    done();
  });

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    settle(request, reply, incomplete(request, reply));
    done();
  });

  if (registration !== undefined) registerRegistrationRoute(fastify, metering, registration);
  if (lifecycle !== undefined) registerLifecycleRoute(fastify, metering, lifecycle);
  if (statusPage !== undefined) for (const path of registerStatusPageRoute(fastify, metering, statusPage)) statusPaths.add(path);
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
