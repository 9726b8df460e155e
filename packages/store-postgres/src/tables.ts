/** Fully qualified, quoted names of meterkit's tables in one schema. */
export interface Tables {
  readonly schema: string;
  readonly meta: string;
  readonly records: string;
  readonly allocations: string;
  readonly customers: string;
  readonly batches: string;
  readonly entitlements: string;
  readonly allowances: string;
  readonly sendSlots: string;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function tablesIn(schema: string): Tables {
  const q = quoteIdentifier(schema);
  return {
    schema: q,
    meta: `${q}.meterkit_meta`,
    records: `${q}.meterkit_usage_records`,
    allocations: `${q}.meterkit_usage_allocations`,
    customers: `${q}.meterkit_customers`,
    batches: `${q}.meterkit_applied_batches`,
    entitlements: `${q}.meterkit_entitlements`,
    allowances: `${q}.meterkit_allowance_counters`,
    sendSlots: `${q}.meterkit_send_slots`,
  };
}
