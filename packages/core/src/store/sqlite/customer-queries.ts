import type Database from 'better-sqlite3';
import type { CustomerRecord } from '../../model/customer';
import type { CustomerFilter, CustomerQuery } from '../usage-store';
import { toCustomerRecord, type CustomerDbRow } from './rows';

/** Each filter as the indexed expression it is answered from (migration 8). */
const CONDITIONS: ReadonlyArray<readonly [keyof CustomerFilter, string]> = [
  ['status', `json_extract(record, '$.status') = @status`],
  ['agreementId', `json_extract(record, '$.agreementId') = @agreementId`],
  ['successorAgreementId', `json_extract(record, '$.successorAgreementId') = @successorAgreementId`],
  ['licenseId', 'license_id = @licenseId'],
];

type Params = Partial<Record<keyof CustomerFilter | 'after', string>> & { limit: number };

/** findCustomers(): one statement per combination of filters, prepared on first use, walking an index in key order. */
export function customerQueries(db: Database.Database): (query: CustomerQuery) => CustomerRecord[] {
  const statements = new Map<string, Database.Statement<[Params], CustomerDbRow>>();
  return (query) => {
    const used = CONDITIONS.filter(([field]) => query[field] !== undefined);
    const id = `${used.map(([field]) => field).join(',')}${query.after === undefined ? '' : '>'}`;
    let statement = statements.get(id);
    if (statement === undefined) {
      const where = [...used.map(([, condition]) => condition), ...(query.after === undefined ? [] : ['key > @after'])];
      statement = db.prepare<[Params], CustomerDbRow>(
        `SELECT record, version FROM customers ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY key LIMIT @limit`,
      );
      statements.set(id, statement);
    }
    const params: Params = { limit: Math.max(0, Math.trunc(query.limit)) };
    for (const [field] of used) params[field] = query[field];
    if (query.after !== undefined) params.after = query.after;
    return statement.all(params).map(toCustomerRecord);
  };
}
