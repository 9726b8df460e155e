import type { LifecycleScenario } from './lifecycle-race';

/**
 * Shrunk counterexamples of the race properties, kept as named regressions. `order` is the scheduler's order of
 * tasks from fast-check's report (`schedulerFor` lines, labels only), replayed by ReplayScheduler on every store.
 */
export interface LifecycleRegression {
  readonly name: string;
  readonly scenario: LifecycleScenario;
  readonly order: readonly string[];
}

export const LIFECYCLE_REGRESSIONS: readonly LifecycleRegression[] = [
  {
    // Both events read the customer before either writes; the older License Updated writes last.
    name: 'License Updated (older) and License Deprovisioned (newer) on one instance leave the customer deprovisioning',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 2 }, on: 0 },
      ],
    },
    order: [
      'op1 event license-deprovisioned@2',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'op0 event license-updated@1',
      'i0.getCustomer run',
      'i0.putCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers run',
      'i0.putCustomer answer',
      'i0.listCustomers run',
      'i0.listCustomers answer',
      'i0.listCustomers answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
    ],
  },
  {
    name: 'License Updated (older) and License Deprovisioned (newer) on two instances leave the customer deprovisioning',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 2 }, on: 1 },
      ],
    },
    order: [
      'op1 event license-deprovisioned@2',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'op0 event license-updated@1',
      'i0.getCustomer run',
      'i1.putCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers run',
      'i1.putCustomer answer',
      'i1.listCustomers run',
      'i0.listCustomers answer',
      'i1.listCustomers answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
    ],
  },
  {
    // The tenant link is written between the event's read and its write, which puts back the customer it read.
    name: 'linkTenant() during License Updated keeps the tenant',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'link', on: 1 },
      ],
    },
    order: [
      'op1 link',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'op0 event license-updated@1',
      'i0.getCustomer run',
      'i1.putCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers run',
      'i1.putCustomer answer',
      'i0.listCustomers answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
    ],
  },
  {
    // ResolveCustomer again (the buyer reopens the registration link) while License Deprovisioned is applied.
    name: 'registration during License Deprovisioned does not reactivate the customer',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-deprovisioned', second: 1 }, on: 0 },
        { op: 'register', who: 'license', on: 1 },
      ],
    },
    order: [
      'op1 register license',
      'i1.aws.ResolveCustomer',
      'i1.getCustomer run',
      'op0 event license-deprovisioned@1',
      'i0.getCustomer run',
      'i1.getCustomer answer',
      'i0.getCustomer answer',
      'i0.putCustomer run',
      'i1.putCustomer run',
      'i1.putCustomer answer',
      'i0.putCustomer answer',
    ],
  },
  {
    // A registration reads the customer, License Updated and the newer License Deprovisioned are applied in full on
    // the other instance, then the registration writes what it read.
    name: 'a registration between its read and its write does not revert License Updated and License Deprovisioned applied meanwhile',
    scenario: {
      instances: 2,
      ops: [
        { op: 'register', who: 'license', on: 1 },
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 2 }, on: 0 },
      ],
    },
    order: [
      'op0 register license',
      'i1.aws.ResolveCustomer',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'op1 event license-updated@1',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers run',
      'i0.listCustomers answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
      'op2 event license-deprovisioned@2',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
      'i1.putCustomer run',
      'i1.putCustomer answer',
    ],
  },
  {
    // The tenant link reads the customer, License Deprovisioned is applied in full on the other instance, then the
    // link writes: the customer stays deprovisioning, with the tenant.
    name: 'linkTenant() between its read and its write keeps a License Deprovisioned applied meanwhile',
    scenario: {
      instances: 2,
      ops: [
        { op: 'link', on: 1 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 1 }, on: 0 },
      ],
    },
    order: [
      'op0 link',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'op1 event license-deprovisioned@1',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
      'i1.putCustomer run',
      'i1.putCustomer answer',
    ],
  },
  {
    name: 'legacy subscribe-success (older) and unsubscribe-pending (newer) on two instances leave the customer deprovisioning',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'legacy-subscribe-success', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 2 }, on: 1 },
      ],
    },
    order: [
      'op1 event legacy-unsubscribe-pending@2',
      'i1.getCustomer run',
      'i1.getCustomer answer',
      'op0 event legacy-subscribe-success@1',
      'i0.getCustomer run',
      'i1.putCustomer run',
      'i0.getCustomer answer',
      'i0.putCustomer run',
      'i1.putCustomer answer',
      'i0.putCustomer answer',
    ],
  },
  {
    // The faulty property once it required typed errors (path 0:0:0:0:0:0:0:0:1:0:2): the driver's error came through as is.
    name: 'a lifecycle event whose customer read fails is refused with ERR_METERKIT_STORE',
    scenario: { instances: 2, ops: [{ op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 }], faults: ['fail'] },
    order: ['op0 event license-updated@1', 'i0.getCustomer run', 'i0.getCustomer answer'],
  },
  {
    name: 'a registration whose customer write fails is refused with ERR_METERKIT_STORE',
    scenario: { instances: 2, ops: [{ op: 'register', who: 'license', on: 0 }], faults: ['ok', 'fail'] },
    order: ['op0 register license', 'i0.getCustomer run', 'i0.getCustomer answer', 'i0.putCustomer run', 'i0.putCustomer answer'],
  },
  {
    // The faulty property once it required typed errors (seed 713017772, path 4:0:0:0:0:0:0:2:1:1:2:5): flush() passed
    // on the driver's error of the final-usage customers' lookup.
    name: 'a flush whose final-usage lookup fails is refused with ERR_METERKIT_STORE',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'flush', on: 0 },
      ],
      faults: ['fail', 'lose-answer'],
    },
    order: ['op0 event license-updated@1', 'i0.getCustomer run', 'i0.getCustomer answer', 'op1 flush', 'i0.listCustomers run', 'i0.listCustomers answer'],
  },
  {
    // The same property (seed 1, path 24:0:0:0:0:0:0:0:0:2:1:1:2:5:8), once the lookup was typed: the claim's error
    // came through as is.
    name: 'a flush whose claim fails is refused with ERR_METERKIT_STORE',
    scenario: {
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-updated', second: 1 }, on: 0 },
        { op: 'flush', on: 0 },
      ],
      faults: ['ok', 'ok', 'fail'],
    },
    order: [
      'op1 flush',
      'op0 event license-updated@1',
      'i0.listCustomers run',
      'i0.getCustomer run',
      'i0.getCustomer answer',
      'i0.listCustomers answer',
      'i0.claim run',
      'i0.listCustomers run',
      'i0.claim answer',
      'i0.listCustomers answer',
      'i0.putCustomer run',
      'i0.putCustomer answer',
    ],
  },
];
