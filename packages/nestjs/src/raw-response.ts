import type { ServerResponse } from 'node:http';

/** Node's response under the platform's: Express `res` is one, Fastify's reply holds it as `raw`. */
export function rawResponse(response: unknown): ServerResponse | undefined {
  const candidate = (response as { raw?: unknown } | undefined)?.raw ?? response;
  return typeof (candidate as ServerResponse | undefined)?.once === 'function' ? (candidate as ServerResponse) : undefined;
}

/** Calls `done` once, when the response was sent (`aborted` false) or the connection closed before (`aborted` true). */
export function onResponseDone(response: ServerResponse, done: (statusCode: number, aborted: boolean) => void): void {
  let called = false;
  const finish = (aborted: boolean) => {
    if (called) return;
    called = true;
    done(response.statusCode, aborted);
  };
  if (response.writableFinished) return finish(false);
  response.once('finish', () => finish(false));
  response.once('close', () => finish(!response.writableFinished));
}
