import { ServerResponse } from 'node:http';
import { finishMeter, settleOnFinish, type CommitPolicy, type RequestMeter, type ResponseSettler } from '@meterkit/core';
import type { Binding } from './request-meter';

/** What meterkit reads of a response: Node's ServerResponse, an HTTP/2 compat response, an injected one. */
export interface NodeResponse {
  readonly statusCode: number;
  /** False when 'close' came without 'finish': the client went away (aborted). */
  readonly writableFinished: boolean;
  on(event: 'finish' | 'close', listener: () => void): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Node's response under the platform's: Express `res` is one, Fastify's reply holds it as `raw` (an HTTP/2
 * compat response there is not a ServerResponse, but settles alike). Tested with instanceof first: on Express, a
 * property read of a response is a slow one (each has an object shape of its own).
 */
export function rawResponse(response: unknown): NodeResponse | undefined {
  if (response instanceof ServerResponse) return response;
  const candidate = (response as { raw?: unknown } | undefined)?.raw ?? response;
  return typeof (candidate as NodeResponse | undefined)?.once === 'function' ? (candidate as NodeResponse) : undefined;
}

/** A metered request's binding, which is also what its response settles: the meter and that response. */
export class BoundMeter implements Binding {
  constructor(
    readonly meter: RequestMeter,
    readonly response: NodeResponse,
  ) {}
}

/**
 * What settles the meters of one RequestMetering by `policy` once their responses are done: through the core's
 * process-wide subscriber to Node's server diagnostics channels, so no listener per request (HTTP/2 compat and
 * injected responses get their own); aborted requests only when the policy bills them (a `close` listener, shared).
 */
export function responseSettler(policy: CommitPolicy | undefined): (binding: BoundMeter) => void {
  const settler: ResponseSettler<BoundMeter> = {
    settle: ({ meter, response }) => finishMeter(meter, response.statusCode, !response.writableFinished, policy),
  };
  const settleClosed = policy?.commitAborted === true;
  return (binding) => {
    const response = binding.response;
    if (response.writableFinished) return finishMeter(binding.meter, response.statusCode, false, policy);
    settleOnFinish(response, settler, binding, settleClosed);
  };
}
