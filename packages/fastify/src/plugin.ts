import { finishMeter, meterForRequest } from '@meterkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

async function meterkitPlugin(fastify: FastifyInstance, options: MeterkitPluginOptions): Promise<void> {
  const { metering, identify, identifyHook, commitPolicy, registration, lifecycle, onSubscriptionChange, manageLifecycle, statusPage, entitlementGate } =
    resolvePluginOptions(options);
  const statusPaths = new Set<string>();

  fastify.decorateRequest('meter', null);
  fastify.decorateRequest('meteringError', null);
  fastify.addHook('onRoute', assertRouteMetering);

  /** Commits or discards the meter exactly once; request.meter is null afterwards. */
  const settle = (request: FastifyRequest, reply: FastifyReply, aborted: boolean): void => {
    const meter = request.meter;
    if (meter === null) return;
    request.meter = null;
    recordRouteUsage(meter, request, reply);
    finishMeter(meter, reply.statusCode, aborted, commitPolicy);
  };

  fastify.addHook(identifyHook, async (request: FastifyRequest, reply: FastifyReply) => {
    // Lifecycle deliveries come from AWS, never from a customer: not metered.
    if (lifecycle !== undefined && request.method === 'POST' && request.routeOptions.url === lifecycle.path) return;
    // Nor are operators reading the status page.
    if (request.routeOptions.url !== undefined && statusPaths.has(request.routeOptions.url)) return;
    const { meter, error } = await meterForRequest(metering, await identify(request));
    if (error !== undefined) {
      request.meteringError = error;
      const level = error.code === 'ERR_METERKIT_STORE' ? 'error' : 'debug';
      request.log[level]({ code: error.code }, '@meterkit/fastify: request not metered');
    }
    if (meter === undefined) return;
    request.meter = meter;
    // A client that leaves before the response is complete never reaches onResponse.
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) settle(request, reply, true);
    });
  });

  fastify.addHook('onResponse', async (request, reply) => {
    settle(request, reply, incomplete(request, reply));
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
