import { resolveEntitlementGate, resolveLifecycleRoute, resolveRegistrationRoute, resolveStatusPageRoute } from './route-options';

const code = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('adapter route options', () => {
  it('fills the documented defaults', () => {
    expect(resolveRegistrationRoute({ path: '/register' })).toMatchObject({ maxBodyBytes: 16_384, rateLimitPerMinute: 30 });
    expect(resolveLifecycleRoute({ path: '/events', secret: 'x'.repeat(16) })).toMatchObject({ maxBodyBytes: 65_536 });
    expect(resolveEntitlementGate(true)).toEqual({ register: false });
    expect(resolveEntitlementGate(false)).toBeUndefined();
    expect(resolveStatusPageRoute(undefined)).toBeUndefined();
  });

  it.each([
    () => resolveRegistrationRoute({ path: 'register' }),
    () => resolveRegistrationRoute({ path: '/r', maxBodyBytes: 2_000_000 }),
    () => resolveRegistrationRoute({ path: '/r', rateLimitPerMinute: -1 }),
    () => resolveLifecycleRoute({ path: '/e', headerName: 'bad header' }),
    () => resolveLifecycleRoute({ path: '/e', maxBodyBytes: 10 }),
    () => resolveStatusPageRoute({ path: '/status?x' }),
    () => resolveEntitlementGate({ register: 'yes' as unknown as boolean }),
  ])('refuses invalid options with ERR_METERKIT_OPTIONS (%#)', (fn) => {
    expect(code(fn)).toBe('ERR_METERKIT_OPTIONS');
  });
});
