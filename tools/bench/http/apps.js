// The same route (GET /hello answering {"ok":true}) in each framework, bare, with meterkit recording one
// api_calls unit per request, with the rate limiter users of that framework already accept, or with the floor: the
// hooks meterkit adds, doing nothing (the least a framework lets any per-request feature cost). `control` is bare
// again, in a process of its own: measured like every other variant, it reads what an identical app reads, the
// resolution of the method on this machine. `meterkit-idle` is bare in a process running meterkit's engine and store
// beside it, no request metered: what the engine's presence costs, apart from the request path.
const { PRODUCT } = require('../lib/fixtures');

const ROUTE = '/hello';
const DIMENSION = 'api_calls';
const NO_LIMIT = 1_000_000_000;

/** Tenant id a request bills: one header, set by the load generator. */
const identify = (request) => request.headers['x-tenant'];

/** What the load generator sends: GET ROUTE for each of `tenants` tenants (`tenant-0`, ...), round robin. */
const tenantRequests = (tenants = 10) => Array.from({ length: tenants }, (_, i) => ({ method: 'GET', path: ROUTE, headers: { 'x-tenant': `tenant-${i}` } }));

async function express(variant, metering) {
  const createApp = require('express');
  const app = createApp();
  app.disable('x-powered-by');
  const handler = (req, res) => res.json({ ok: true });
  if (variant === 'bare' || variant === 'control' || variant === 'meterkit-idle') {
    app.get(ROUTE, handler);
  } else if (variant === 'meterkit') {
    const { meterkit } = require('@meterkit/express');
    const mk = meterkit(metering, { identify });
    app.use(mk);
    app.get(ROUTE, mk.count(DIMENSION), handler);
  } else if (variant === 'floor') {
    // The two layers meterkit adds, doing nothing: an app-level middleware and a route-level one.
    app.use((_req, _res, next) => next());
    app.get(ROUTE, (_req, _res, next) => next(), handler);
  } else if (variant === 'reference') {
    const { rateLimit } = require('express-rate-limit');
    app.use(rateLimit({ windowMs: 60_000, limit: NO_LIMIT, standardHeaders: 'draft-8', legacyHeaders: false }));
    app.get(ROUTE, handler);
  } else throw new Error(`unknown variant ${variant}`);
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function fastify(variant, metering) {
  const Fastify = require('fastify');
  const app = Fastify({ logger: false });
  const handler = async () => ({ ok: true });
  if (variant === 'bare' || variant === 'control' || variant === 'meterkit-idle') {
    app.get(ROUTE, handler);
  } else if (variant === 'meterkit') {
    const { meterkit } = require('@meterkit/fastify');
    await app.register(meterkit, { metering, identify });
    app.get(ROUTE, { config: { metering: { dimension: DIMENSION } } }, handler);
  } else if (variant === 'floor') {
    // What meterkit adds, doing nothing: a plugin registered the way Fastify documents it (awaited, through
    // fastify-plugin), its two request decorators, and the identify step it puts first in each route's handler.
    const fp = require('fastify-plugin');
    const noop = fp(async (instance) => {
      instance.decorateRequest('meter', null);
      instance.decorateRequest('meteringError', null);
      instance.addHook('onRoute', (route) => {
        const own = route.handler;
        route.handler = function identifyThenHandle(request, reply) {
          return own.call(this, request, reply);
        };
      });
    });
    await app.register(noop);
    app.get(ROUTE, handler);
  } else if (variant === 'empty-plugin') {
    // Only the registration: an empty plugin, awaited. In these servers a registration lets a garbage collection
    // free the shapes V8 caches for Node's tick objects, and every process.nextTick then runs through V8's runtime
    // (docs/benchmarks.md): a cost meterkit's engine prevents and this variant, without an engine, pays.
    await app.register(require('fastify-plugin')(async () => undefined));
    app.get(ROUTE, handler);
  } else if (variant === 'reference') {
    await app.register(require('@fastify/rate-limit'), { max: NO_LIMIT, timeWindow: 60_000 });
    app.get(ROUTE, handler);
  } else throw new Error(`unknown variant ${variant}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}

/** Nest on its Express platform (the default) or on its Fastify platform. */
async function nest(variant, metering, platform = 'express') {
  require('reflect-metadata');
  const { Controller, Get, Injectable, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  class HelloController {
    hello() {
      return { ok: true };
    }
  }
  const decorators = [Get(ROUTE.slice(1))];
  const imports = [];
  const providers = [];
  if (variant === 'reference') {
    // Nest has no rate limiter in core; the reference is the cost of any global interceptor (meterkit's adapter
    // is one): Nest wraps each interceptor in an AsyncResource and an RxJS pipeline per request.
    const { APP_INTERCEPTOR } = require('@nestjs/core');
    class NoopInterceptor {
      intercept(context, next) {
        return next.handle();
      }
    }
    Reflect.decorate([Injectable()], NoopInterceptor);
    providers.push({ provide: APP_INTERCEPTOR, useClass: NoopInterceptor });
  } else if (variant === 'floor') {
    // What `@Metered()` puts on a route, doing nothing: a no-op route guard (meterkit's MeterGuard).
    const { UseGuards } = require('@nestjs/common');
    class NoopRouteGuard {
      canActivate() {
        return true;
      }
    }
    Reflect.decorate([Injectable()], NoopRouteGuard);
    decorators.push(UseGuards(NoopRouteGuard));
  } else if (variant === 'noop-guard') {
    // The alternatives to an interceptor Nest offers, measured for their own cost: a global guard ...
    const { APP_GUARD } = require('@nestjs/core');
    class NoopGuard {
      canActivate() {
        return true;
      }
    }
    Reflect.decorate([Injectable()], NoopGuard);
    providers.push({ provide: APP_GUARD, useClass: NoopGuard });
  } else if (variant === 'noop-middleware') {
    // ... and a middleware applied to the controller's routes (see AppModule.configure below).
  } else if (variant === 'meterkit') {
    const { MeteringModule, Metered } = require('@meterkit/nestjs');
    decorators.push(Metered(DIMENSION));
    imports.push(MeteringModule.forRoot({ metering, identify }));
  } else if (variant === 'meterkit-undeclared') {
    // meterkit in the app, on a route that declares no metering (a health check, a page): what it costs there.
    const { MeteringModule } = require('@meterkit/nestjs');
    imports.push(MeteringModule.forRoot({ metering, identify }));
  } else if (variant === 'channels') {
    // Bare, with no-op subscribers on the two diagnostics channels meterkit's response settling subscribes to: what
    // Node's publishing of a message per request costs on its own.
    const { subscribe } = require('node:diagnostics_channel');
    subscribe('http.server.request.start', () => undefined);
    subscribe('http.server.response.finish', () => undefined);
  } else if (variant !== 'bare' && variant !== 'control' && variant !== 'meterkit-idle') throw new Error(`unknown variant ${variant}`);
  Reflect.decorate(decorators, HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
  Reflect.decorate([Controller()], HelloController);
  class AppModule {
    configure(consumer) {
      if (variant === 'noop-middleware') consumer.apply((_req, _res, next) => next()).forRoutes(HelloController);
    }
  }
  Reflect.decorate([Module({ imports, providers, controllers: [HelloController] })], AppModule);
  let app;
  if (platform === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  } else {
    app = await NestFactory.create(AppModule, { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  return { port: app.getHttpServer().address().port, close: () => app.close() };
}

const frameworks = { express, fastify, nest, 'nest-fastify': (variant, metering) => nest(variant, metering, 'fastify') };

module.exports = { frameworks, tenantRequests, PRODUCT, DIMENSION, ROUTE };
