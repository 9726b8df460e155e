import { ExpiredTokenException, InvalidTokenException, ResolveCustomerCommand } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator } from '../src';
import { HOUR, clientFor, errorOf, receiver } from './helpers';

describe('subscribe, registration tokens and ResolveCustomer', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      now: Date.UTC(2026, 6, 1, 10),
      products: [
        { productCode: 'prod-new', dimensions: ['api_calls'] },
        { productCode: 'prod-old', dimensions: ['seats'], identity: 'legacy' },
      ],
    });
  });
  afterAll(() => emu.close());

  it('resolves a license-mode token to account, product and LicenseArn, repeatedly until it expires', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new', accountId: '222222222222' });
    expect(sub.licenseArn).toMatch(/^arn:aws:license-manager::\d{12}:license:l-[0-9a-f]{32}$/);
    expect(sub.agreementId).toMatch(/^agmt-/);
    const client = clientFor(emu);
    const out = await client.send(new ResolveCustomerCommand({ RegistrationToken: sub.token }));
    expect(out).toMatchObject({ CustomerAWSAccountId: '222222222222', ProductCode: 'prod-new', LicenseArn: sub.licenseArn });
    expect(out.CustomerIdentifier).toBeUndefined();
    emu.clock.advance(4 * HOUR - 60_000);
    expect((await client.send(new ResolveCustomerCommand({ RegistrationToken: sub.token }))).LicenseArn).toBe(sub.licenseArn);
    emu.clock.advance(60_000);
    expect(await errorOf(() => client.send(new ResolveCustomerCommand({ RegistrationToken: sub.token })))).toBeInstanceOf(ExpiredTokenException);
    // a fresh token for the same license works again
    const fresh = emu.issueToken(sub.licenseArn as string);
    expect((await client.send(new ResolveCustomerCommand({ RegistrationToken: fresh }))).LicenseArn).toBe(sub.licenseArn);
  });

  it('resolves a legacy token to CustomerIdentifier, account and product', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-old' });
    const out = await clientFor(emu).send(new ResolveCustomerCommand({ RegistrationToken: sub.token }));
    expect(out).toMatchObject({ CustomerIdentifier: sub.customerIdentifier, CustomerAWSAccountId: sub.accountId, ProductCode: 'prod-old' });
    expect(out.LicenseArn).toBeUndefined();
  });

  it('answers InvalidTokenException for garbage and ValidationException for an empty token', async () => {
    const client = clientFor(emu);
    const err = await errorOf(() => client.send(new ResolveCustomerCommand({ RegistrationToken: 'garbage' })));
    expect(err).toBeInstanceOf(InvalidTokenException);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect((await errorOf(() => client.send(new ResolveCustomerCommand({ RegistrationToken: '' })))).name).toBe('ValidationException');
  });

  it('POSTs the token to the registration URL as a form, like the buyer browser does', async () => {
    const seller = await receiver(() => ({ status: 303, headers: { location: '/welcome' }, body: 'see other' }));
    try {
      const sub = await emu.subscribe({ productCode: 'prod-new', registrationUrl: `${seller.url}/marketplace/register` });
      expect(sub.registration).toEqual({ status: 303, location: '/welcome', body: 'see other' });
      const [req] = seller.received;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/marketplace/register');
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = new URLSearchParams(req.body);
      expect(form.get('x-amzn-marketplace-token')).toBe(sub.token);
      expect(form.has('x-amzn-marketplace-offer-type')).toBe(false);

      const trial = await emu.subscribe({ productCode: 'prod-new', registrationUrl: seller.url, offerType: 'free-trial' });
      expect(new URLSearchParams(seller.received[1].body).get('x-amzn-marketplace-offer-type')).toBe('free-trial');
      expect(new URLSearchParams(seller.received[1].body).get('x-amzn-marketplace-token')).toBe(trial.token);
    } finally {
      await seller.close();
    }
  });

  it('keeps concurrent agreements of one account apart (one license each)', async () => {
    const a = await emu.subscribe({ productCode: 'prod-new', accountId: '333333333333' });
    const b = await emu.subscribe({ productCode: 'prod-new', accountId: '333333333333' });
    expect(a.licenseArn).not.toBe(b.licenseArn);
    expect(emu.buyers().filter((x) => x.accountId === '333333333333')).toHaveLength(2);
  });

  it('refuses to subscribe to an unknown product', async () => {
    await expect(emu.subscribe({ productCode: 'nope' })).rejects.toThrow(/Unknown product/);
  });
});
