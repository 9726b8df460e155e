export { run } from './program';
export type { CliIo } from './io';
export { parseCloudTrail, type CloudTrailExport, type CloudTrailEvent, type CloudTrailResult } from './reconcile/cloudtrail';
export { compareLedger, type Difference, type DifferenceKind } from './reconcile/compare';
export type { AwsIdentity, AwsRecord } from './reconcile/aws-records';
export { reasonHelp, knownReasons, type ReasonHelp } from './reasons';
export { EXPORT_COLUMNS } from './commands/export';
