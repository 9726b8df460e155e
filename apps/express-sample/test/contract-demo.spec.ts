import { runContractDemo } from '../src/contract-demo';

describe('express-sample: the contract demo', () => {
  it('bills the contract buyer only above its quota and the subscription buyer in full, and says so', async () => {
    const lines: string[] = [];
    const result = await runContractDemo((line) => lines.push(line));
    expect(result).toEqual({ recorded: { umbrella: 131, acme: 20 }, billed: { umbrella: 31, acme: 20 }, mismatches: 0, duplicates: 0 });
    expect(lines).toContain('umbrella  GET /v1/team: 200 seats 5, API calls included a month 100, used 0');
    expect(lines).toContain('acme      GET /v1/team: 403 ERR_METERKIT_ENTITLEMENT_REQUIRED: Your AWS Marketplace contract does not include seats.');
    expect(lines).toContain('umbrella  GET /v1/team: used 130 this month (this call not yet counted), within the quota: false');
    expect(lines.at(-1)).toBe('only the usage above the contract quota was billed, exactly once');
  });
});
