/** One usage record as AWS answered it, from CloudTrail or the emulator, keyed like meterkit's ledger. */
export interface AwsRecord {
  /** recordId(): customer key, dimension and hour. */
  readonly id: string;
  readonly customerKey: string;
  readonly dimension: string;
  /** Start of the UTC hour, ms epoch. */
  readonly hour: number;
  readonly quantity: number;
  /** `Success` (accepted and billed), `DuplicateRecord` (refused: AWS holds another quantity), `CustomerNotSubscribed`. */
  readonly status: string;
  readonly meteringRecordId?: string;
}

export interface AwsIdentity {
  readonly productCode?: string;
  readonly licenseArn?: string;
  readonly customerAWSAccountId?: string;
  readonly customerIdentifier?: string;
}

/** The customer key meterkit stores for this identity (see customerKey() in @meterkit/core). */
export function awsCustomerKey(identity: AwsIdentity): string | undefined {
  if (identity.licenseArn !== undefined) return `license:${identity.licenseArn}`;
  if (identity.productCode === undefined) return undefined;
  if (identity.customerIdentifier !== undefined) return `legacy:${identity.productCode}:customer:${identity.customerIdentifier}`;
  if (identity.customerAWSAccountId !== undefined) return `legacy:${identity.productCode}:account:${identity.customerAWSAccountId}`;
  return undefined;
}
