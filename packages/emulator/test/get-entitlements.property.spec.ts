import { GetEntitlementsCommand, InvalidParameterException, paginateGetEntitlements, type Entitlement } from '@aws-sdk/client-marketplace-entitlement-service';
import fc from 'fast-check';
import { startEmulator, type Emulator, type Subscription } from '../src';
import { entitlementClientFor, errorOf } from './helpers';

// Invariants of GetEntitlements, against a model written independently of the emulator:
// 1. Filter: an entitlement is returned iff, for every key of the filter, its field for that key is one of the key's
//    values (a union within a key, an intersection across keys); license products carry no CustomerIdentifier and
//    legacy ones no LicenseArn, so those keys match nothing there; both customer keys together are refused.
// 2. Pagination: for any page size and with or without interleaved empty pages, the pages followed to the end by the
//    SDK paginator concatenate to exactly the unpaginated answer, in order, each page at most the page size, and with
//    emptyPages every other page is empty and still carries NextToken.

const DIMS = ['seats', 'admins', 'sso', 'tier'] as const;

interface BuyerSpec {
  values: Partial<Record<(typeof DIMS)[number], number | boolean | string>>;
}
interface FilterSpec {
  customerKey: 'none' | 'identifier' | 'account' | 'both';
  /** Buyer indexes; an index past the last buyer stands for an id no buyer has. */
  customers: number[];
  licenses?: number[];
  dims?: string[];
}

const value = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.5, max: 99, noNaN: true }), fc.boolean(), fc.constantFrom('basic', 'gold'));
const buyerSpec = fc.record({ values: fc.dictionary(fc.constantFrom(...DIMS), value, { minKeys: 1, maxKeys: 4 }) }) as fc.Arbitrary<BuyerSpec>;
const filterSpec: fc.Arbitrary<FilterSpec> = fc.record(
  {
    customerKey: fc.constantFrom('none', 'identifier', 'account', 'both'),
    customers: fc.array(fc.nat(9), { minLength: 1, maxLength: 3 }),
    licenses: fc.array(fc.nat(9), { minLength: 1, maxLength: 3 }),
    dims: fc.array(fc.constantFrom(...DIMS, 'other'), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['customerKey', 'customers'] },
);

interface World {
  productCode: string;
  identity: 'license' | 'legacy';
  buyers: Array<{ spec: BuyerSpec; sub: Subscription }>;
}

let emu: Emulator;
let run = 0;

beforeAll(async () => {
  emu = await startEmulator({ now: Date.UTC(2026, 6, 15, 12, 20), timeSource: () => 0, entitlements: { throttlePerSecond: 1_000_000 } });
});
afterAll(() => emu.close());

async function world(identity: 'license' | 'legacy', specs: BuyerSpec[]): Promise<World> {
  const productCode = `prod-prop-${++run}`;
  emu.addProduct({ productCode, dimensions: ['api'], identity, pricing: 'contract-with-consumption', contractDimensions: [...DIMS] });
  const buyers = [];
  for (const spec of specs) buyers.push({ spec, sub: await emu.subscribe({ productCode, contract: { dimensions: spec.values as Record<string, number> } }) });
  return { productCode, identity, buyers };
}

function wireFilter(w: World, f: FilterSpec): Record<string, string[]> {
  const id = (i: number) => w.buyers[i]?.sub.customerIdentifier ?? `nobody-${i}`;
  const account = (i: number) => w.buyers[i]?.sub.accountId ?? `99999999999${i}`;
  const arn = (i: number) => w.buyers[i]?.sub.licenseArn ?? `arn:aws:license-manager::123456789012:license:l-none${i}`;
  const out: Record<string, string[]> = {};
  if (f.customerKey === 'identifier' || f.customerKey === 'both') out.CUSTOMER_IDENTIFIER = f.customers.map(id);
  if (f.customerKey === 'account' || f.customerKey === 'both') out.CUSTOMER_AWS_ACCOUNT_ID = f.customers.map(account);
  if (f.licenses) out.LICENSE_ARN = f.licenses.map(arn);
  if (f.dims) out.DIMENSION = f.dims;
  return out;
}

/** The model: which (buyer, dimension) pairs the filter selects, in subscription then dimension order. */
function expected(w: World, f: FilterSpec): string[] {
  const out: string[] = [];
  w.buyers.forEach(({ spec }, i) => {
    for (const dim of Object.keys(spec.values)) {
      const inCustomers = f.customers.includes(i);
      if (f.customerKey === 'identifier' && !(w.identity === 'legacy' && inCustomers)) continue;
      if (f.customerKey === 'account' && !inCustomers) continue;
      if (f.licenses && !(w.identity === 'license' && f.licenses.includes(i))) continue;
      if (f.dims && !f.dims.includes(dim)) continue;
      out.push(`${i}:${dim}`);
    }
  });
  return out;
}

function describeAnswer(w: World, es: Entitlement[]): string[] {
  return es.map((e) => {
    const i = w.buyers.findIndex((b) => b.sub.accountId === e.CustomerAWSAccountId);
    const spec = w.buyers[i].spec.values[e.Dimension as (typeof DIMS)[number]];
    const v = e.Value ?? {};
    const members = Object.entries(v).filter(([, x]) => x !== undefined);
    if (members.length !== 1) throw new Error(`expected exactly one Value member, got ${JSON.stringify(v)}`);
    if (members[0][1] !== spec) throw new Error(`value ${String(members[0][1])} is not the contract's ${String(spec)}`);
    if (w.identity === 'license' && (e.CustomerIdentifier !== undefined || e.LicenseArn !== w.buyers[i].sub.licenseArn)) throw new Error('license product identity');
    if (w.identity === 'legacy' && (e.LicenseArn !== undefined || e.CustomerIdentifier !== w.buyers[i].sub.customerIdentifier)) throw new Error('legacy product identity');
    return `${i}:${e.Dimension}`;
  });
}

const client = () => entitlementClientFor(emu);

it('filters select exactly what the model selects (union within a key, intersection across keys)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('license' as const, 'legacy' as const), fc.array(buyerSpec, { minLength: 1, maxLength: 5 }), filterSpec, async (identity, specs, f) => {
      emu.entitlements.configure({ emptyPages: false, pageSize: 25 });
      const w = await world(identity, specs);
      const Filter = wireFilter(w, f);
      if (f.customerKey === 'both') {
        expect(await errorOf(() => client().send(new GetEntitlementsCommand({ ProductCode: w.productCode, Filter })))).toBeInstanceOf(InvalidParameterException);
        return;
      }
      const out = await client().send(new GetEntitlementsCommand({ ProductCode: w.productCode, Filter }));
      expect(out.NextToken).toBeUndefined();
      expect(describeAnswer(w, out.Entitlements ?? [])).toEqual(expected(w, f));
    }),
    { numRuns: 60 },
  );
});

it('pages concatenate to the unpaginated answer for any page size, with or without empty pages', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('license' as const, 'legacy' as const),
      fc.array(buyerSpec, { minLength: 0, maxLength: 9 }),
      fc.option(filterSpec.filter((f) => f.customerKey !== 'both'), { nil: undefined }),
      fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined }),
      fc.boolean(),
      async (identity, specs, f, pageSize, emptyPages) => {
        emu.entitlements.configure({ emptyPages: false, pageSize: 25 });
        const w = await world(identity, specs);
        const Filter = f ? wireFilter(w, f) : undefined;
        const whole = await client().send(new GetEntitlementsCommand({ ProductCode: w.productCode, ...(Filter ? { Filter } : {}) }));
        const wanted = f ? expected(w, f) : expected(w, { customerKey: 'none', customers: [] });
        // Up to 36 entitlements: above 25 the unpaginated answer is itself the model's (checked page by page below).
        if (wanted.length <= 25) expect(describeAnswer(w, whole.Entitlements ?? [])).toEqual(wanted);

        emu.entitlements.configure({ emptyPages });
        const pages: Entitlement[][] = [];
        const tokens: Array<string | undefined> = [];
        for await (const page of paginateGetEntitlements({ client: client(), ...(pageSize ? { pageSize } : {}) }, { ProductCode: w.productCode, ...(Filter ? { Filter } : {}) })) {
          pages.push(page.Entitlements ?? []);
          tokens.push(page.NextToken);
        }
        expect(describeAnswer(w, pages.flat())).toEqual(wanted);
        const size = pageSize ?? 25;
        for (const p of pages) expect(p.length).toBeLessThanOrEqual(size);
        expect(tokens[tokens.length - 1]).toBeUndefined();
        if (emptyPages) {
          pages.forEach((p, i) => {
            if (i % 2 === 0) {
              expect(p).toEqual([]);
              expect(tokens[i]).toEqual(expect.any(String));
            }
          });
          expect(pages.length).toBe(2 * Math.max(1, Math.ceil(wanted.length / size)));
        } else {
          expect(pages.length).toBe(Math.max(1, Math.ceil(wanted.length / size)));
        }
      },
    ),
    { numRuns: 60 },
  );
});
