import type { FirstContactScenario } from './first-contact-race';

/** Shrunk counterexamples of the first-contact property, their scheduler order replayed (see LIFECYCLE_REGRESSIONS). */
export interface FirstContactRegression {
  readonly name: string;
  readonly scenario: FirstContactScenario;
  readonly order: readonly string[];
}

export const FIRST_CONTACT_REGRESSIONS: readonly FirstContactRegression[] = [
  {
    // The older License Updated read no customer, the newer License Deprovisioned was applied in full on another
    // instance, then the older one wrote what it had decided.
    name: 'an unknown customer stays deprovisioning when the older License Updated read it before the newer event wrote it',
    scenario: {
      instances: 2,
      ops: [
        { call: 'updated', on: 0 },
        { call: 'deprovisioned', on: 1 },
      ],
    },
    order: [
      'op0 updated',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers run',
      'i0.listCustomers answer',
      'op1 deprovisioned',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'i1.listCustomers run',
      'i1.listCustomers answer',
      'i1.putCustomer run',
      'i1.putCustomer answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
    ],
  },
];
