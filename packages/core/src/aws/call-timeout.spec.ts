import { mayHaveApplied } from '../send/landing-marks';
import { AwsCallTimeoutError, boundCalls, DEFAULT_AWS_CALL_TIMEOUT_MS, resolveCallTimeoutMs } from './call-timeout';
import { classifyError } from './classify-error';

/** A client whose calls never answer, ended only by their abort signal as the SDK's are; it records each signal. */
function silentClient() {
  const signals: AbortSignal[] = [];
  return {
    signals,
    config: { region: 'us-east-1' },
    send(_command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
      const signal = options!.abortSignal!;
      signals.push(signal);
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))));
    },
  };
}

describe('boundCalls', () => {
  it('rejects a call without an answer with AwsCallTimeoutError and aborts its signal', async () => {
    const client = silentClient();
    const error = await boundCalls(client, 5).send({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsCallTimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', timeoutMs: 5 });
    expect(client.signals[0]!.aborted).toBe(true);
    expect(client.signals[0]!.reason).toBe(error);
  });

  it('classifies the timeout as a call without a definite answer: retried, possibly applied', () => {
    const error = new AwsCallTimeoutError(10);
    expect(classifyError(error)).toBe('retry');
    expect(mayHaveApplied(error)).toBe(true);
  });

  it('passes the answer and the error of a call that ends in time through unchanged', async () => {
    const answered = { send: async () => ({ MeteringRecordId: 'm-1' }) };
    await expect(boundCalls(answered, 1000).send()).resolves.toEqual({ MeteringRecordId: 'm-1' });
    const refusal = Object.assign(new Error('bad'), { name: 'InvalidProductCodeException' });
    const refused = { send: async () => Promise.reject(refusal) };
    await expect(boundCalls(refused, 1000).send()).rejects.toBe(refusal);
  });

  it("keeps a caller's own abort signal working", async () => {
    const client = silentClient();
    const caller = new AbortController();
    const call = boundCalls(client, 60_000).send({}, { abortSignal: caller.signal });
    caller.abort();
    expect(client.signals[0]!.aborted).toBe(true);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('leaves the rest of the client as it is, and bounds a bounded client once, with the new bound', async () => {
    const client = silentClient();
    const once = boundCalls(client, 60_000);
    expect(once.config).toBe(client.config);
    const twice = boundCalls(once, 5);
    await expect(twice.send({})).rejects.toMatchObject({ timeoutMs: 5 });
    expect(client.signals).toHaveLength(1);
    expect(boundCalls(client, 60_000)).toBe(once);
    expect(boundCalls(once, 60_000)).toBe(once);
  });
});

describe('resolveCallTimeoutMs', () => {
  it('defaults to 10 s and refuses what is not an integer of 1 to 600 000', () => {
    expect(resolveCallTimeoutMs(undefined)).toBe(DEFAULT_AWS_CALL_TIMEOUT_MS);
    expect(DEFAULT_AWS_CALL_TIMEOUT_MS).toBe(10_000);
    expect(resolveCallTimeoutMs(1)).toBe(1);
    for (const bad of [0, 1.5, 600_001, Number.NaN, '100', null]) {
      expect(() => resolveCallTimeoutMs(bad)).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    }
  });
});
