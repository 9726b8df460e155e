import { Controller, Inject, Req, Res, SetMetadata, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OWN_ROUTE_METADATA, STATUS_PAGE_ROUTE, UNMETERED_METADATA } from '../metering.constants';
import type { GuardedRequest, StatusPageRoute } from './status-page-route';

interface PlatformRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The login form's fields, parsed by the platform (both parse urlencoded bodies by default). */
  readonly body?: unknown;
  /** Express: HTTPS (behind `trust proxy`, as the proxy says). */
  readonly secure?: boolean;
  /** Fastify: 'https' or 'http'. */
  readonly protocol?: string;
}

/** The URL with any `token` query parameter's value hidden. */
function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[hidden]');
}

/**
 * A controller class of its own for each MeteringModule, mapped to GET `<path>` and `<path>.json` when the
 * module's options are resolved (see statusPageRouteFactory); no route at all when the app configures none.
 * Never metered, never behind the entitlement gate.
 */
export function createStatusPageController(): Type<unknown> {
  @Controller({ version: VERSION_NEUTRAL })
  @SetMetadata(UNMETERED_METADATA, true)
  @SetMetadata(OWN_ROUTE_METADATA, true)
  class MeteringStatusPageController {
    constructor(
      @Inject(STATUS_PAGE_ROUTE) private readonly route: StatusPageRoute,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    html(@Req() request: PlatformRequest, @Res() response: unknown): Promise<void> {
      return this.answer(request, response, '');
    }

    json(@Req() request: PlatformRequest, @Res() response: unknown): Promise<void> {
      return this.answer(request, response, '.json');
    }

    login(@Req() request: PlatformRequest, @Res() response: unknown): Promise<void> {
      return this.answer(request, response, '');
    }

    private async answer(request: PlatformRequest, response: unknown, suffix: string): Promise<void> {
      const page = this.route.page!;
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      // A refused `?token=` is hidden from the URL that access logs read after the response (the Express platform's
      // request; Fastify's request, which has `raw`, keeps its URL read-only).
      if (/[?&]token=/i.test(query) && 'originalUrl' in request && !('raw' in request)) {
        const express = request as PlatformRequest & { originalUrl: string; url: string };
        express.originalUrl = withoutToken(express.originalUrl);
        express.url = withoutToken(express.url);
      }
      const body = request.method === 'POST' ? formOf(request.body) : undefined;
      // The page's own path, so the core sees it whatever global prefix or version the app adds.
      const guarded: GuardedRequest = {
        method: request.method,
        url: `${page.path}${suffix}${query}`,
        headers: request.headers,
        ...(body === undefined ? {} : { body }),
        secure: request.secure === true || request.protocol === 'https',
        platformRequest: request,
      };
      const answer = await page.handle(guarded);
      const http = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(answer.headers)) http.setHeader(response, name, value);
      http.reply(response, answer.body, answer.status);
    }
  }
  return MeteringStatusPageController;
}

function formOf(body: unknown): string | Readonly<Record<string, unknown>> | undefined {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
}
