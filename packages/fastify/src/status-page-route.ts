import { StatusPage, type Metering, type StatusPageRequest } from '@meterkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ownRoute } from './own-routes';
import type { StatusPageRouteOptions } from './options';

/** The status page request as the core sees it, carrying the Fastify request for the app's guard. */
interface GuardedRequest extends StatusPageRequest {
  readonly fastifyRequest: FastifyRequest;
}

/** The login form's body is one short field. */
const MAX_FORM_BYTES = 4096;

/** The URL with any `token` query parameter's value hidden. */
function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[hidden]');
}

/** The request as Fastify's default serializer logs it, a `?token=` hidden: a refused token never reaches the logs. */
const logSerializers = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: withoutToken(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
};

/**
 * Serves the core's StatusPage on GET (and HEAD) `<path>` (HTML) and `<path>.json`, and its login form on POST `<path>`
 * (in its own encapsulated context whose only parser reads the urlencoded form, up to 4 KB), with the core's status,
 * headers (CSP, no-store, the session cookie) and body; closed with the app. Request logs of these routes hide a
 * `?token=` (refused by the core). Throws ERR_METERKIT_OPTIONS without a token or guard. Answers the paths it serves,
 * for the entitlement gate to let through.
 */
export function registerStatusPageRoute(fastify: FastifyInstance, metering: Metering, options: StatusPageRouteOptions): readonly string[] {
  const guard = options.guard;
  const page = new StatusPage(metering, {
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).fastifyRequest) }),
    ...(options.recentErrors === undefined ? {} : { recentErrors: options.recentErrors }),
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.sessionMs === undefined ? {} : { sessionMs: options.sessionMs }),
    ...(options.customersPerPage === undefined ? {} : { customersPerPage: options.customersPerPage }),
    ...(options.refreshSeconds === undefined ? {} : { refreshSeconds: options.refreshSeconds }),
  });
  fastify.addHook('onClose', async () => page.close());
  const answer = async (path: string, request: FastifyRequest, body: StatusPageRequest['body']) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    // The route's own path, so the core sees it whatever prefix the app registered the plugin under.
    const guarded: GuardedRequest = {
      method: request.method,
      url: `${path}${query}`,
      headers: request.headers,
      ...(body === undefined ? {} : { body }),
      secure: request.protocol === 'https',
      fastifyRequest: request,
    };
    return page.handle(guarded);
  };
  const paths = [page.path, `${page.path}.json`];
  for (const path of paths) {
    fastify.get(
      path,
      { logSerializers },
      ownRoute(async (request: FastifyRequest, reply: FastifyReply) => {
        const r = await answer(path, request, undefined);
        return reply.code(r.status).headers(r.headers).send(r.body);
      }),
    );
  }
  fastify.register(async function meterkitStatusLogin(child) {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_request, body, done) => {
      done(null, body);
    });
    child.post(
      page.path,
      { logSerializers, bodyLimit: MAX_FORM_BYTES },
      ownRoute(async (request: FastifyRequest, reply: FastifyReply) => {
        const r = await answer(page.path, request, typeof request.body === 'string' ? request.body : undefined);
        return reply.code(r.status).headers(r.headers).send(r.body);
      }),
    );
  });
  return paths;
}
