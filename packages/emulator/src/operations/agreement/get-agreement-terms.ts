/**
 * GetAgreementTerms: for a contract, configurableUpfrontPricingTerm whose configuration.dimensions are what the buyer
 * bought (amendments included), a renewalTerm and a validityTerm; usageBasedPricingTerm for metered dimensions.
 * The emulator knows no prices: rate cards name the dimensions without `price`.
 */
import { dimensionQuantity } from '../../contracts/contract-terms';
import type { CallContext, EmulatorState, OperationResult } from '../../state/emulator-state';
import { agreementOf, input, page, seconds, termId } from './agreement-views';

export function getAgreementTerms(raw: unknown, state: EmulatorState, _ctx: CallContext): OperationResult {
  const o = input(raw);
  const r = agreementOf(o, state);
  const product = state.products.get(r.buyer.productCode);
  const terms: unknown[] = [];
  const duration = r.contract ? `P${r.contract.durationMonths}M` : undefined;
  if (r.contract && product) {
    terms.push({
      configurableUpfrontPricingTerm: {
        type: 'ConfigurableUpfrontPricingTerm',
        id: termId(r.agreementId, 'upfront'),
        currencyCode: 'USD',
        rateCards: [
          {
            selector: { type: 'Duration', value: duration },
            constraints: { multipleDimensionSelection: 'Allowed', quantityConfiguration: 'Allowed' },
            rateCard: product.contractDimensions.map((d) => ({ dimensionKey: d })),
          },
        ],
        configuration: {
          selectorValue: duration,
          dimensions: Object.entries(r.contract.dimensions).map(([dimensionKey, v]) => ({ dimensionKey, dimensionValue: dimensionQuantity(v) })),
        },
      },
    });
  }
  if (product && product.dimensions.length > 0) {
    terms.push({
      usageBasedPricingTerm: {
        type: 'UsageBasedPricingTerm',
        id: termId(r.agreementId, 'usage'),
        currencyCode: 'USD',
        rateCards: [{ rateCard: product.dimensions.map((d) => ({ dimensionKey: d })) }],
      },
    });
  }
  if (r.contract) terms.push({ renewalTerm: { type: 'RenewalTerm', id: termId(r.agreementId, 'renewal'), configuration: { enableAutoRenew: r.contract.autoRenew } } });
  terms.push({
    validityTerm: {
      type: 'ValidityTerm',
      id: termId(r.agreementId, 'validity'),
      ...(duration ? { agreementDuration: duration } : {}),
      agreementStartDate: seconds(r.startTime),
      agreementEndDate: seconds(r.endTime),
    },
  });
  const p = page(o, terms, 50);
  return { output: { acceptedTerms: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
}
