// Concurrent HTTP traffic against the drill app, counting successful (2xx) responses per tenant and dimension:
// the ground truth every metering total is compared with.
const { setTimeout: sleep } = require('node:timers/promises');

class Traffic {
  /** `target()` returns the app's current base URL (undefined while it is down). */
  constructor({ target, tenants, concurrency, maxUnits = 5 }) {
    this.target = target;
    this.tenants = tenants;
    this.concurrency = concurrency;
    this.maxUnits = maxUnits;
    this.expected = new Map();
    this.successTimes = [];
    /** [answeredAt, ms] of every answered request. */
    this.answers = [];
    this.ok = 0;
    this.failed = 0;
    this.non2xx = 0;
    this.running = false;
    this.workers = [];
    this.seed = 7;
  }

  start() {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, (_, i) => this.worker(i));
  }

  async stop() {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** The slowest answer among requests answered in (from, to], in ms. */
  slowestBetween(from, to) {
    return this.answers.reduce((max, [at, ms]) => (at > from && at <= to && ms > max ? ms : max), 0);
  }

  /** Successful responses received in (from, to]. */
  successesBetween(from, to) {
    return this.successTimes.filter((t) => t > from && t <= to).length;
  }

  async worker(index) {
    let n = index;
    while (this.running) {
      const base = this.target();
      if (base === undefined) {
        await sleep(10);
        continue;
      }
      const tenant = this.tenants[n++ % this.tenants.length];
      const units = 1 + (n % this.maxUnits);
      const sentAt = Date.now();
      try {
        // A request the app never answers counts as failed after a minute, so a hung app ends the drill too.
        const res = await fetch(`${base}/work?units=${units}`, { headers: { 'x-tenant': tenant }, signal: AbortSignal.timeout(60_000) });
        await res.arrayBuffer();
        this.answers.push([Date.now(), Date.now() - sentAt]);
        if (res.status >= 200 && res.status < 300) {
          this.ok++;
          this.successTimes.push(Date.now());
          this.add(tenant, 'api_calls', 1);
          this.add(tenant, 'gb_processed', units);
        } else this.non2xx++;
      } catch {
        this.failed++;
        await sleep(5);
      }
    }
  }

  add(tenant, dimension, quantity) {
    const key = `${tenant}|${dimension}`;
    this.expected.set(key, (this.expected.get(key) ?? 0) + quantity);
  }
}

module.exports = { Traffic };
