/** Where a CLI run reads its environment and writes its output; the bin passes the process's own. */
export interface CliIo {
  /** Command output (tables, JSON, CSV). */
  readonly stdout: (text: string) => void;
  /** Messages and errors. */
  readonly stderr: (text: string) => void;
  /** Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths (--store sqlite:, --products, --out, cloudtrail files) resolve from here. Default `process.cwd()`. */
  readonly cwd?: string;
  /** The time source (ms epoch). Default Date.now. */
  readonly clock?: () => number;
  /** A terminal to draw the flush progress bar on; none: no bar. */
  readonly progress?: NodeJS.WriteStream;
}

/** A failure the user can fix: printed as is, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Context {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly now: () => number;
  readonly json: boolean;
  /** Exit code the run ends with once the command resolved. */
  exitCode: number;
}

export function printJson(context: Context, value: unknown): void {
  context.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
