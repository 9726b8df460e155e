import type { INestApplication } from '@nestjs/common';
import type { Metering } from '@meterkit/core';

/** The units the engine billed once the app is closed: its usage persisted and summed, the engine closed. */
export async function billedUnitsAfterClose(app: INestApplication, metering: Metering): Promise<number> {
  await app.close();
  await metering.persist();
  const records = await metering.store.listRecords();
  await metering.close();
  return records.reduce((sum, record) => sum + record.quantity, 0);
}
