import { Controller, Inject, Req, Res, SetMetadata, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OWN_ROUTE_METADATA, STATUS_PAGE_ROUTE, UNMETERED_METADATA } from '../metering.constants';
import type { GuardedRequest, StatusPageRoute } from './status-page-route';

interface PlatformRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
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

    private async answer(request: PlatformRequest, response: unknown, suffix: string): Promise<void> {
      const page = this.route.page!;
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      // The page's own path, so the core sees it whatever global prefix or version the app adds.
      const guarded: GuardedRequest = { method: request.method, url: `${page.path}${suffix}${query}`, headers: request.headers, platformRequest: request };
      const answer = await page.handle(guarded);
      const http = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(answer.headers)) http.setHeader(response, name, value);
      http.reply(response, answer.body, answer.status);
    }
  }
  return MeteringStatusPageController;
}
