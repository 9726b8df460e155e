import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorCodes, isMeterkitError, type ErrorCode } from '@meterkit/core';

const CLIENT_ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_INVALID,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.UNKNOWN_PRODUCT,
  ErrorCodes.INVALID_CUSTOMER,
  ErrorCodes.UNKNOWN_CUSTOMER,
]);

/**
 * Answers every error of the registration route (Nest exceptions, the app's `onRegistered` hook, linking the
 * tenant) as `{ error: { code, message } }`: 4xx for the buyer's input, 502/503 for trouble they can retry.
 */
@Catch()
export class RegistrationExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('MeteringRegistration');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, code, message } = this.describe(exception);
    if (status >= 500) this.logger.error(`registration failed (${code}): ${exception instanceof Error ? exception.message : String(exception)}`);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { error: { code, message } }, status);
  }

  private describe(exception: unknown): { status: number; code: string; message: string } {
    if (isMeterkitError(exception)) {
      return CLIENT_ERRORS.has(exception.code)
        ? { status: HttpStatus.BAD_REQUEST, code: exception.code, message: exception.message }
        : { status: HttpStatus.SERVICE_UNAVAILABLE, code: exception.code, message: 'Registration is unavailable right now; please try the same link again in a few minutes.' };
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return { status: exception.getStatus(), code: ErrorCodes.REGISTRATION_FAILED, message: exception.message };
    }
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      code: ErrorCodes.REGISTRATION_FAILED,
      message: 'Registration could not be completed; please try the same link again in a few minutes.',
    };
  }
}
