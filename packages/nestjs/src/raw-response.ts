import type { ServerResponse } from 'node:http';
import { finishMeter, type CommitPolicy, type RequestMeter } from '@meterkit/core';

/** Node's response under the platform's: Express `res` is one, Fastify's reply holds it as `raw`. */
export function rawResponse(response: unknown): ServerResponse | undefined {
  const candidate = (response as { raw?: unknown } | undefined)?.raw ?? response;
  return typeof (candidate as ServerResponse | undefined)?.once === 'function' ? (candidate as ServerResponse) : undefined;
}

const SETTLES = Symbol('meterkit.settles');
type Settling = ServerResponse & { [SETTLES]?: RequestMeter };

/**
 * What settles a request's meter under `policy` when its response is done: 'close' follows 'finish' once the
 * response was sent, or comes alone when the connection closed first (aborted). One listener function serves
 * every request; the meter waits on the response.
 */
export function responseSettler(policy: CommitPolicy | undefined): (response: ServerResponse, meter: RequestMeter) => void {
  function settleOnClose(this: Settling): void {
    const meter = this[SETTLES];
    if (meter === undefined) return;
    this[SETTLES] = undefined;
    finishMeter(meter, this.statusCode, !this.writableFinished, policy);
  }
  return (response, meter) => {
    if (response.writableFinished) return finishMeter(meter, response.statusCode, false, policy);
    (response as Settling)[SETTLES] = meter;
    response.on('close', settleOnClose);
  };
}
