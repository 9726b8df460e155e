import { ErrorCodes, MeterkitError } from '../errors';
import type { EntitlementView } from '../contracts/entitlement-set';
import type { RequestMeter } from '../meter/request-meter';
import { checkRouteEntitlement } from './route-entitlement';

/** A meter whose entitlement() answers `view`, or throws `error`. */
function meterWith(answer: EntitlementView | Error): RequestMeter {
  return {
    entitlement: () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as RequestMeter;
}

const seats = { dimension: 'seats' };
const codeOf = (result: ReturnType<typeof checkRouteEntitlement>) => (result.ok ? 'ok' : `${result.status} ${result.body.error.code}`);

describe('checkRouteEntitlement', () => {
  it('lets a buyer holding the entitlement through and refuses one below atLeast or without it with 403', () => {
    expect(codeOf(checkRouteEntitlement(meterWith({ dimension: 'seats', value: 10, within: true }), undefined, seats))).toBe('ok');
    expect(codeOf(checkRouteEntitlement(meterWith({ dimension: 'seats', value: 10, within: true }), undefined, { dimension: 'seats', atLeast: 11 }))).toBe(
      `403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`,
    );
    expect(codeOf(checkRouteEntitlement(meterWith({ dimension: 'seats', value: undefined, within: false }), undefined, seats))).toBe(`403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`);
  });

  it('refuses a subscription buyer, and a contract product without the dimension, as not entitled', () => {
    for (const code of [ErrorCodes.NOT_A_CONTRACT, ErrorCodes.UNKNOWN_DIMENSION]) {
      expect(codeOf(checkRouteEntitlement(meterWith(new MeterkitError(code, 'no')), undefined, seats))).toBe(`403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`);
    }
  });

  it('answers 503 ERR_METERKIT_STORE when the buyer could not be looked up, 403 when there is none', () => {
    const down = checkRouteEntitlement(null, new MeterkitError(ErrorCodes.STORE, 'down'), seats);
    expect([codeOf(down), down.ok ? undefined : down.headers['cache-control']]).toEqual([`503 ${ErrorCodes.STORE}`, 'no-store']);
    expect(codeOf(checkRouteEntitlement(null, new MeterkitError(ErrorCodes.UNKNOWN_CUSTOMER, 'who'), seats))).toBe(`403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`);
    expect(codeOf(checkRouteEntitlement(null, new MeterkitError(ErrorCodes.CUSTOMER_INACTIVE, 'gone'), seats))).toBe(`403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`);
    expect(codeOf(checkRouteEntitlement(undefined, undefined, seats))).toBe(`403 ${ErrorCodes.ENTITLEMENT_REQUIRED}`);
  });

  it('lets other errors of entitlement() through: they are bugs, not refusals', () => {
    expect(() => checkRouteEntitlement(meterWith(new TypeError('boom')), undefined, seats)).toThrow(TypeError);
  });
});
