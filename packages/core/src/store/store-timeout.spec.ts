import { RequestStoreCalls, withinStoreTimeout } from './store-timeout';

const never = <T>() => new Promise<T>(() => undefined);

/** Settles pending promise callbacks without letting any timer run. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('bounded store calls', () => {
  it('rejects with ERR_METERKIT_STORE naming the bound when the store does not answer, and passes answers through', async () => {
    await expect(withinStoreTimeout(never(), 10, 'read status')).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE', details: { timeoutMs: 10, action: 'read status' } });
    await expect(withinStoreTimeout(Promise.resolve(7), 10, 'x')).resolves.toBe(7);
    await expect(withinStoreTimeout(Promise.reject(new Error('refused')), 10, 'x')).rejects.toThrow('refused');
  });

  it('once a call went unanswered, does not wait for later ones until the store answers one', async () => {
    const calls = new RequestStoreCalls(10);
    await expect(calls.wait(never(), 'first')).rejects.toMatchObject({ details: { timeoutMs: 10 } });
    expect(calls.hanging).toBe(true);

    let settled = false;
    let answer!: (value: number) => void;
    const second = calls.wait(new Promise<number>((resolve) => (answer = resolve)), 'second');
    second.catch(() => undefined).finally(() => (settled = true));
    await microtasks();
    expect(settled).toBe(true);
    await expect(second).rejects.toThrow(/earlier call unanswered/);

    // The store answers the call nobody waited for: later calls are waited for again.
    answer(1);
    await microtasks();
    expect(calls.hanging).toBe(false);
    await expect(calls.wait(Promise.resolve(2), 'third')).resolves.toBe(2);
  });

  it('re-opens the wait only when a call succeeds: errors after a hang (a pool giving up) keep it closed', async () => {
    const calls = new RequestStoreCalls(10);
    await expect(calls.wait(never(), 'hang')).rejects.toThrow();
    await expect(calls.wait(Promise.reject(new Error('timeout exceeded when trying to connect')), 'refused')).rejects.toThrow();
    await microtasks();
    expect(calls.hanging).toBe(true);
    calls.answered();
    expect(calls.hanging).toBe(false);
  });
});
