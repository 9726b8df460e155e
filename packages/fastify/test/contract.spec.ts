import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { RequestListener } from 'node:http';
import { describeAdapterContract, describeMeter, DIMENSION, NO_SUCH_DIMENSION, TENANT_HEADER } from '../../../tools/testing/adapter-contract/contract';
import { meterkit } from '../src';

describeAdapterContract({
  name: 'fastify',
  async start(server, { metering, registration, lifecycle, statusPage, onSubscriptionChange, countedDimension = DIMENSION, entitled = [] }) {
    const errors: unknown[] = [];
    const logged: string[] = [];
    const identified: string[] = [];
    const app = Fastify({
      logger: { level: 'error', stream: { write: (line: string) => void logged.push(line) } },
      serverFactory: (handler: RequestListener) => server.on('request', handler),
    });
    await app.register(meterkit, {
      metering,
      identify: (request) => {
        identified.push(request.url);
        return request.headers[TENANT_HEADER] as string | undefined;
      },
      ...(registration === undefined ? {} : { registration }),
      ...(lifecycle === undefined ? {} : { lifecycle }),
      ...(statusPage === undefined ? {} : { statusPage }),
      ...(onSubscriptionChange === undefined ? {} : { onSubscriptionChange }),
    });
    // The app's routes in a plugin, as Fastify apps are written: a route meterkit refuses rejects app.ready().
    app.register(async function routes(scope) {
      scope.get('/work', async (request) => {
        request.meter?.record(DIMENSION, 1);
        return { meter: describeMeter(request.meter) };
      });
      scope.get('/answer/:status', async (request: FastifyRequest<{ Params: { status: string } }>, reply: FastifyReply) => {
        request.meter?.record(DIMENSION, 1);
        return reply.code(Number(request.params.status)).send({});
      });
      scope.get('/counted', { config: { metering: { dimension: countedDimension } } }, async () => ({}));
      scope.get('/free', async (request) => ({ meter: describeMeter(request.meter) }));
      scope.get('/typo', async (request) => {
        request.meter?.record(NO_SUCH_DIMENSION, 1);
        return {};
      });
      for (const { path, dimension, atLeast } of entitled) {
        const entitlement = atLeast === undefined ? dimension : { dimension, atLeast };
        scope.get(path, { config: { metering: { entitlement } } }, async (request) => ({ meter: describeMeter(request.meter) }));
      }
    });
    app.setErrorHandler((error, _request, reply) => {
      errors.push(error);
      return reply.code(500).send({ error: 'internal' });
    });
    try {
      await app.ready();
    } catch (error) {
      await app.close();
      throw error;
    }
    return { errors, logged, identified, close: () => app.close() };
  },
});
