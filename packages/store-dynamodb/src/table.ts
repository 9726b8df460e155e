import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type {
  DeleteItemCommandInput,
  DynamoDBClient,
  PutItemCommandInput,
  QueryCommandInput,
  ScanCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { CallPacer } from './call-pacer';
import { isConditionalFailure } from './dynamo-errors';
import type { Item } from './record-item';
import { KEY, tableDefinition } from './table-layout';

type WithoutTable<T> = Omit<T, 'TableName'>;

/**
 * Items per page of the queries and scans the store reads to the end (a caller's `Limit` stands): the SDK parses a
 * page's answer in one step on the event loop, and a page of DynamoDB's own size (up to 1 MB) held it about 40 ms.
 */
export const PAGE_ITEMS = 200;

/** The DynamoDB calls the store makes, bound to its table. Conditional failures answer undefined/false, not errors. */
export class Table {
  constructor(
    readonly client: DynamoDBClient,
    readonly name: string,
    private readonly pacer: CallPacer,
  ) {}

  /** Starts a call (`start` sends one command) once the call pacer lets one start in this turn of the event loop. */
  private async paced<Output>(start: () => Promise<Output>): Promise<Output> {
    const slot = this.pacer.slot();
    if (slot !== undefined) await slot;
    return start();
  }

  key(pk: string, sk: string): Item {
    return { [KEY.partition]: { S: pk }, [KEY.sort]: { S: sk } };
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.paced(() => this.client.send(new GetItemCommand({ TableName: this.name, Key: this.key(pk, sk), ConsistentRead: true })));
    return out.Item;
  }

  async put(input: WithoutTable<PutItemCommandInput>): Promise<boolean> {
    try {
      await this.paced(() => this.client.send(new PutItemCommand({ ...input, TableName: this.name })));
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /** The item after the update, or undefined when the condition failed. */
  async update(input: WithoutTable<UpdateItemCommandInput>): Promise<Item | undefined> {
    try {
      const out = await this.paced(() => this.client.send(new UpdateItemCommand({ ReturnValues: 'ALL_NEW', ...input, TableName: this.name })));
      return out.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  async delete(input: WithoutTable<DeleteItemCommandInput>): Promise<boolean> {
    try {
      await this.paced(() => this.client.send(new DeleteItemCommand({ ...input, TableName: this.name })));
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /** Deletes an item and answers what it held, or undefined when the condition failed (or nothing was there). */
  async take(input: WithoutTable<DeleteItemCommandInput>): Promise<Item | undefined> {
    try {
      const out = await this.paced(() => this.client.send(new DeleteItemCommand({ ...input, ReturnValues: 'ALL_OLD', TableName: this.name })));
      return out.Attributes;
    } catch (error) {
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  /** One page of a query, from `start` on: its items and where the next page starts (undefined: none). */
  async queryPage(input: WithoutTable<QueryCommandInput>, start?: Item): Promise<{ items: Item[]; next: Item | undefined }> {
    const page = { ...input, TableName: this.name, ...(start === undefined ? {} : { ExclusiveStartKey: start }) };
    const out = await this.paced(() => this.client.send(new QueryCommand(page)));
    return { items: out.Items ?? [], next: out.LastEvaluatedKey };
  }

  /** Every page of a query, PAGE_ITEMS items a page unless `input` sets its own `Limit`. */
  async query(input: WithoutTable<QueryCommandInput>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.queryPage({ Limit: PAGE_ITEMS, ...input }, start);
      items.push(...page.items);
      start = page.next;
    } while (start !== undefined);
    return items;
  }

  /** Every page of a scan: for listing and statistics only, never for claims. */
  async scan(input: WithoutTable<ScanCommandInput>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = { Limit: PAGE_ITEMS, ...input, TableName: this.name, ...(start === undefined ? {} : { ExclusiveStartKey: start }) };
      const out = await this.paced(() => this.client.send(new ScanCommand(page)));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  async exists(): Promise<boolean> {
    try {
      const out = await this.paced(() => this.client.send(new DescribeTableCommand({ TableName: this.name })));
      return out.Table?.TableStatus === 'ACTIVE' || out.Table?.TableStatus === 'UPDATING';
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return false;
      throw error;
    }
  }

  /** Creates the table with its indexes and waits until it is active; does nothing when it exists. */
  async create(): Promise<void> {
    try {
      await this.paced(() => this.client.send(new CreateTableCommand(tableDefinition(this.name))));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
    await waitUntilTableExists({ client: this.client, maxWaitTime: 300, minDelay: 1, maxDelay: 5 }, { TableName: this.name });
  }
}
