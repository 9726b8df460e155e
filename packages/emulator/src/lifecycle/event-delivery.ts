/**
 * Delivers events to an HTTP target the way an EventBridge API destination does: POST JSON with the
 * connection's header, 5 s timeout, retries on 5xx and network errors (not on 4xx), every outcome recorded.
 */
import { httpPost } from '../http/client';
import type { EventRow } from '../types';

export interface DeliveryTarget {
  url: string;
  headers: Record<string, string>;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });

export async function deliver(target: DeliveryTarget, id: string, detailType: string, body: unknown, text: string): Promise<EventRow> {
  let attempts = 0;
  let status: number | 'error' = 'error';
  let error: string | undefined;
  for (;;) {
    attempts++;
    try {
      const res = await httpPost(target.url, target.headers, text, target.timeoutMs);
      status = res.status;
      error = undefined;
      if (res.status < 500) break;
    } catch (e) {
      status = 'error';
      error = (e as Error).message;
    }
    if (attempts > target.retries) break;
    await sleep(target.retryDelayMs * 2 ** (attempts - 1));
  }
  return { id, detailType, target: target.url, status, attempts, body, ...(error ? { error } : {}) };
}
