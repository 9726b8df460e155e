import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEvents } from '../events';
import type { Metering } from '../metering';

export interface HealthCheckOptions {
  /** Degraded when the oldest unsettled hour has less than this left in AWS's window. Default 3 h (10 800 000 ms). */
  readonly degradedBeforeDeadlineMs?: number;
  /** Degraded when sending has failed (AWS errors, no record accepted) for this long. Default 15 min (900 000 ms). */
  readonly failingForMs?: number;
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  /** Why it is degraded; empty when ok. */
  readonly reasons: string[];
}

export interface HealthCheck {
  check(): Promise<HealthReport>;
  /** Stops listening to the Metering instance. */
  close(): void;
}

/** For a readiness/health endpoint or an alarm: `ok` or `degraded`, with reasons an operator can act on. */
export function createHealthCheck(metering: Metering, options: HealthCheckOptions = {}): HealthCheck {
  const nearDeadline = options.degradedBeforeDeadlineMs ?? 3 * 3_600_000;
  const failingFor = options.failingForMs ?? 15 * 60_000;
  for (const [name, value] of [['degradedBeforeDeadlineMs', nearDeadline], ['failingForMs', failingFor]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new MeterkitError(ErrorCodes.OPTIONS, `${name} must be a number of ms, 0 or more.`);
  }
  let failingSince: number | undefined;
  let lastFailure: string | undefined;
  const onError = ({ error }: MeteringEvents['error']): void => {
    if (error.code !== ErrorCodes.AWS && error.code !== ErrorCodes.AWS_CONFIGURATION) return;
    failingSince ??= metering.now();
    lastFailure = error.awsException ?? error.code;
  };
  const onSent = (): void => {
    failingSince = undefined;
    lastFailure = undefined;
  };
  metering.on('error', onError).on('sent', onSent);

  return {
    async check(): Promise<HealthReport> {
      const reasons: string[] = [];
      const now = metering.now();
      try {
        const status = await metering.status();
        if (status.oldestWindowLeftMs !== undefined && status.oldestWindowLeftMs < nearDeadline) {
          const oldest = status.pending[0]!;
          reasons.push(
            status.oldestWindowLeftMs <= 0
              ? `The hour ${oldest.hour} has passed AWS's submission window (${oldest.deadline}).`
              : `The hour ${oldest.hour} has ${Math.round(status.oldestWindowLeftMs / 60_000)} min left in AWS's window (deadline ${oldest.deadline}).`,
          );
        }
        if (status.persistError !== undefined) reasons.push(`The store refuses writes (${status.persistError.code}); usage is held in memory.`);
      } catch (error) {
        reasons.push(`The store cannot be read: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (failingSince !== undefined && now - failingSince >= failingFor) {
        reasons.push(`Sending to AWS has failed for ${Math.round((now - failingSince) / 60_000)} min (last: ${lastFailure}).`);
      }
      return { status: reasons.length === 0 ? 'ok' : 'degraded', reasons };
    },
    close(): void {
      metering.off('error', onError).off('sent', onSent);
    },
  };
}
