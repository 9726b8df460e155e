import { ErrorCodes, MeterkitError } from '@meterkit/core';
import type { ModuleRef } from '@nestjs/core';
import { RequestMetering } from './request-metering';

/**
 * The app's RequestMetering, found from any module (route guards are created in the module of the controller they
 * decorate, which need not import MeteringModule). Throws ERR_METERKIT_OPTIONS without a MeteringModule.
 */
export function requestMeteringOf(moduleRef: ModuleRef): RequestMetering {
  try {
    return moduleRef.get(RequestMetering, { strict: false });
  } catch (cause) {
    throw new MeterkitError(ErrorCodes.OPTIONS, '@Metered(), @Meter() and @RequireEntitlement() need MeteringModule.forRoot() (or forRootAsync()) in the app.', { cause });
  }
}
