import { meteringTarget, SAMPLE_PRODUCT } from '../src/config/metering-target';

describe('where the sample meters to', () => {
  it('starts a local emulator by default', async () => {
    const target = await meteringTarget({});
    try {
      expect(target.metering).toMatchObject({ products: [{ productCode: SAMPLE_PRODUCT }], store: 'memory', aws: { endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) } });
      const health = await fetch(`${target.metering.aws!.endpoint}/_emulator/health`);
      expect(health.status).toBe(200);
    } finally {
      await target.close();
    }
  });

  it('meters to AWS when METERKIT_TARGET=aws, and needs the product code for it', async () => {
    await expect(meteringTarget({ METERKIT_TARGET: 'aws' })).rejects.toThrow('METERKIT_PRODUCT_CODE');
    const target = await meteringTarget({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real123', AWS_REGION: 'eu-west-1' });
    expect(target.metering).toEqual({ products: [{ productCode: 'prod-real123', dimensions: ['api_calls', 'gb_processed'] }], store: 'sqlite:./meterkit.db', aws: { region: 'eu-west-1' } });
  });
});
