import { StatusPage, type Metering, type StatusPageRequest } from '@meterkit/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StatusPageRouteOptions } from './options';

/** The status page request as the core sees it, carrying the Fastify request for the app's guard. */
interface GuardedRequest extends StatusPageRequest {
  readonly fastifyRequest: FastifyRequest;
}

/**
 * Serves the core's StatusPage on GET (and HEAD) `<path>` (HTML) and `<path>.json`, with the core's status,
 * headers (CSP, no-store) and body; closed with the app. Throws ERR_METERKIT_OPTIONS without a token or guard.
 * Answers the paths it serves, for the plugin's hooks to leave alone.
 */
export function registerStatusPageRoute(fastify: FastifyInstance, metering: Metering, options: StatusPageRouteOptions): readonly string[] {
  const guard = options.guard;
  const page = new StatusPage(metering, {
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).fastifyRequest) }),
    ...(options.recentErrors === undefined ? {} : { recentErrors: options.recentErrors }),
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  fastify.addHook('onClose', async () => page.close());
  const paths = [page.path, `${page.path}.json`];
  for (const path of paths) {
    fastify.get(path, async (request, reply) => {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      // The route's own path, so the core sees it whatever prefix the app registered the plugin under.
      const guarded: GuardedRequest = { method: request.method, url: `${path}${query}`, headers: request.headers, fastifyRequest: request };
      const answer = await page.handle(guarded);
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
  }
  return paths;
}
