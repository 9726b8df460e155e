import type { CustomerRecord } from '../model/customer';
import { customerLicenseId } from './customer-pages';
import { compareKeys } from './frozen-usage';
import type { CustomerFilter } from './usage-store';

type IndexedField = keyof CustomerFilter;

const FIELDS: readonly IndexedField[] = ['status', 'agreementId', 'successorAgreementId', 'licenseId'];

function valueOf(customer: CustomerRecord, field: IndexedField): string | undefined {
  return field === 'licenseId' ? customerLicenseId(customer) : customer[field];
}

/** Index of the first key in `keys` (sorted) that sorts after `after`. */
function firstAfter(keys: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareKeys(keys[mid]!, after) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function insertKey(keys: string[], key: string): void {
  const at = firstAfter(keys, key);
  if (keys[at - 1] !== key) keys.splice(at, 0, key);
}

function removeKey(keys: string[], key: string): void {
  const at = firstAfter(keys, key) - 1;
  if (at >= 0 && keys[at] === key) keys.splice(at, 1);
}

/**
 * The memory store's customer keys in key order, all of them and per value of each field findCustomers() filters
 * on: a page is a binary search and a walk of `limit` keys, not a sort of the registry.
 */
export class CustomerIndex {
  private readonly all: string[] = [];
  private readonly byValue = new Map<string, string[]>();

  /** Records a write of `customer` over `before` (undefined: a new key). */
  update(before: CustomerRecord | undefined, customer: CustomerRecord): void {
    if (before === undefined) insertKey(this.all, customer.key);
    for (const field of FIELDS) {
      const old = before === undefined ? undefined : valueOf(before, field);
      const value = valueOf(customer, field);
      if (old === value) continue;
      if (old !== undefined) {
        const keys = this.byValue.get(`${field}\u0000${old}`);
        if (keys !== undefined) {
          removeKey(keys, customer.key);
          if (keys.length === 0) this.byValue.delete(`${field}\u0000${old}`);
        }
      }
      if (value !== undefined) {
        const id = `${field}\u0000${value}`;
        const keys = this.byValue.get(id) ?? [];
        insertKey(keys, customer.key);
        this.byValue.set(id, keys);
      }
    }
  }

  /**
   * Keys after `after`, in order, of customers that may match `filter` (those holding the value of its first
   * field): the caller checks each customer against every filter and stops when it has enough.
   */
  *candidates(filter: CustomerFilter, after: string | undefined): Generator<string> {
    const field = FIELDS.find((f) => filter[f] !== undefined);
    const keys = field === undefined ? this.all : this.byValue.get(`${field}\u0000${filter[field] as string}`);
    if (keys === undefined) return;
    for (let i = firstAfter(keys, after); i < keys.length; i++) yield keys[i]!;
  }
}
