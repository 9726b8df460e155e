import { Command, CommanderError, Option } from 'commander';
import { isMeterkitError } from '@meterkit/core';
import { entitlementsCommand } from './commands/entitlements';
import { exportCommand } from './commands/export';
import { flushCommand } from './commands/flush';
import { recordsCommand } from './commands/records';
import { reconcileCommand } from './commands/reconcile';
import { redriveCommand } from './commands/redrive';
import { printStatus, statusReport } from './commands/status';
import { UsageError, type CliIo, type Context } from './io';
import { DEFAULT_STORE, redact, withStore, type StoreOptions } from './store';

interface GlobalOptions extends StoreOptions {
  readonly json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function buildProgram(io: CliIo, contextFor: (command: Command) => Context): Command {
  const program = new Command('meterkit')
    .description('Operate meterkit: what was recorded, sent, answered by AWS, and what is stuck.')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .option('--store <store>', `sqlite:<file> or postgres://… (default: env METERKIT_STORE or ${DEFAULT_STORE})`)
    .option('--schema <schema>', 'PostgreSQL schema of the meterkit tables (default public)')
    .option('--create', 'create the store if it does not exist (an empty SQLite file, or the tables in --schema); default: an error')
    .option('--json', 'print JSON instead of tables');

  const storeOf = (command: Command): StoreOptions => command.optsWithGlobals<GlobalOptions>();
  const filters = (command: Command): Command =>
    command
      .option('--customer <key|licenseArn>', 'a customer key (license:…, legacy:…) or a license ARN')
      .option('--dimension <dimension>', 'one dimension')
      .option('--from <hour>', 'first hour, inclusive (ISO 8601 or ms epoch)')
      .option('--to <hour>', 'last hour, exclusive')
      .option('--wide', 'every value in full (license ARN, time) and the MeteringRecordId; default: fit 120 columns');

  program
    .command('status')
    .description('pending hours and AWS window headroom, last successful send, records per state, customers per status')
    .action(async (_options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), async (store) => printStatus(context, await statusReport(store, context.now())));
    });

  program
    .command('entitlements')
    .description('contract customers: each license’s entitlements with their expiry, the last refresh, and the newest period’s included units used')
    .option('--customer <key|licenseArn|tenant>', 'a customer key, a license ARN or id (l-…), or your tenant id')
    .option('--products <file>', 'products JSON with their `included` periods: counters of the current period (default: env METERKIT_PRODUCTS, else each newest counter)')
    .option('--wide', 'license ARNs and values in full; default: fit 120 columns')
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => entitlementsCommand(context, store, options));
    });

  filters(program.command('records'))
    .description('records with tenant, customer, quantity and state, and for failed ones the AWS exception and the fix (--wide: with the MeteringRecordId)')
    .option('--state <state>', 'a state (repeatable): open, pending, sending, sent, not-subscribed, duplicate, rejected, expired, dry-run', collect)
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => recordsCommand(context, store, options));
    });

  filters(program.command('redrive'))
    .description('put rejected, not-subscribed and failed records back to pending, if they can still make AWS’s window')
    .option('--margin-minutes <minutes>', 'refuse records whose deadline is closer than this', '10')
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => redriveCommand(context, store, options));
    });

  program
    .command('flush')
    .description('send every due record now, with a progress bar and a summary')
    .option('--products <file>', 'products JSON [{ productCode, dimensions, identity? }] (default: env METERKIT_PRODUCTS)')
    .option('--endpoint <url>', 'metering endpoint (default: env METERKIT_AWS_ENDPOINT, else AWS)')
    .option('--region <region>', 'AWS region (default: env AWS_REGION)')
    .option('--lock-minutes <minutes>', 'how long a closed hour waits for late usage', '10')
    .option('--dry-run', 'list what a flush would send; changes nothing')
    .option('--wide', 'the dry run shows license ARNs and times in full; default: fit 120 columns')
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => flushCommand(context, store, options));
    });

  program
    .command('export')
    .description('the ledger of an hour range as CSV or JSON lines, to join with AWS reports and CloudTrail')
    .addOption(new Option('--format <format>', 'csv or jsonl (default csv; jsonl with --json)').choices(['csv', 'jsonl']))
    .option('--from <hour>', 'first hour, inclusive')
    .option('--to <hour>', 'last hour, exclusive')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => exportCommand(context, store, options));
    });

  program
    .command('reconcile')
    .description('compare the ledger with CloudTrail BatchMeterUsage events or the emulator; exit 1 on differences')
    .option('--cloudtrail <file>', 'JSON written by `aws cloudtrail lookup-events`')
    .option('--emulator <url>', 'a meterkit emulator: reads GET <url>/_emulator/records')
    .option('--from <hour>', 'first hour, inclusive (default: the first hour AWS has)')
    .option('--to <hour>', 'last hour, exclusive (default: after the last hour AWS has)')
    .option('--wide', 'customer keys in full (license ARN); default: fit 120 columns')
    .action(async (options: object, command: Command) => {
      const context = contextFor(command);
      await withStore(context, storeOf(command), (store) => reconcileCommand(context, store, options));
    });

  return program;
}

/**
 * Runs the CLI on `argv` (without node and the script: `['status', '--json']`) and resolves to the exit code:
 * 0 fine, 1 the command found problems (differences, refused or failed records), 2 bad usage or an error.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let context: Context | undefined;
  const program = buildProgram(io, (command) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    context = {
      io,
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      now: io.clock ?? Date.now,
      json: globals.json === true,
      exitCode: 0,
    };
    return context;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context?.exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      io.stderr(`meterkit: ${error.message}\n`);
      return 2;
    }
    const message = isMeterkitError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    io.stderr(`meterkit: ${redact(message)}\n`);
    return 2;
  }
}
