// Customers and products shared by the suites: Concurrent Agreements (license) identities, as AWS issues them.
const PRODUCT = 'prod-bench';
const DIMENSIONS = ['api_calls', 'gb_processed', 'seats', ...Array.from({ length: 22 }, (_, i) => `d${String(i).padStart(2, '0')}`)];

function licenseCustomer(i, productCode = PRODUCT) {
  return {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::111111111111:license:l-${String(i).padStart(32, '0')}`,
    customerAwsAccountId: String(222222222222 + i),
    productCode,
  };
}

function customers(count, productCode = PRODUCT) {
  return Array.from({ length: count }, (_, i) => licenseCustomer(i, productCode));
}

/**
 * The flush suites' usage: `requestsPerPair` requests on each of `pairs` (customer, dimension) pairs, `dimsPerCustomer`
 * dimensions per customer, through meter(), then persisted.
 */
async function recordPairs(metering, buyers, { pairs, requestsPerPair, dimsPerCustomer }) {
  for (let r = 0; r < requestsPerPair; r++) {
    for (let p = 0; p < pairs; p++) {
      const meter = metering.meter(buyers[Math.floor(p / dimsPerCustomer)]);
      meter.record(DIMENSIONS[p % dimsPerCustomer]);
      void meter.commit();
    }
  }
  await metering.persist();
}

module.exports = { PRODUCT, DIMENSIONS, licenseCustomer, customers, recordPairs };
