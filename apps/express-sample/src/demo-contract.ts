// The contract-with-consumption product end to end on a real port, no AWS account needed: a buyer signs a contract in
// the local AWS Marketplace emulator for 5 seats and 100 API calls a month, registers (the sample reads the contract's
// entitlements with GetEntitlements), opens the seats-only route, and calls the API beyond its quota; a subscription
// buyer calls the same API and is refused the seats-only route. Time is simulated through the emulator's clock; a
// flush bills the hour, and what AWS accepted is compared with what lies above the quota.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { runContractDemo } from './contract-demo';

runContractDemo().then(
  ({ mismatches, duplicates }) => {
    if (mismatches > 0 || duplicates > 0) {
      console.error(`${mismatches} billed totals differ from the usage above the quota, ${duplicates} duplicate(s) at AWS`);
      process.exit(1);
    }
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
