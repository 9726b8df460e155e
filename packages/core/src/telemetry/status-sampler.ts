import type { Metering } from '../metering';
import type { MeteringStatus } from '../status';

/** Reads metering.status() at most once per interval; concurrent readers share one read. */
export class StatusSampler {
  private last: { at: number; status: MeteringStatus } | undefined;
  private reading: Promise<MeteringStatus | undefined> | undefined;

  constructor(
    private readonly metering: Metering,
    private readonly intervalMs: number,
  ) {}

  async sample(): Promise<MeteringStatus | undefined> {
    const now = Date.now();
    if (this.last !== undefined && now - this.last.at < this.intervalMs) return this.last.status;
    this.reading ??= this.metering
      .status()
      .then(
        (status) => {
          this.last = { at: Date.now(), status };
          return status;
        },
        () => this.last?.status,
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
