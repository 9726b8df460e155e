/** A pino-compatible logger: (context object, message). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The default: warnings and errors as one JSON line each on stderr. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(obj, msg) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', name: 'meterkit', msg, ...obj })}\n`);
  },
  error(obj, msg) {
    process.stderr.write(`${JSON.stringify({ level: 'error', name: 'meterkit', msg, ...obj })}\n`);
  },
};

/** Keeps the last 4 characters of an account id, license ARN or customer identifier. */
export function mask(identifier: string | undefined): string | undefined {
  if (identifier === undefined) return undefined;
  return identifier.length <= 4 ? '****' : `…${identifier.slice(-4)}`;
}
