const MINUTE_MS = 60_000;

/** `45 min`, `3 h 12 min`, `2 d 4 h`: minutes below a day, hours beyond. */
export function readableDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / MINUTE_MS);
  const text =
    minutes >= 1440
      ? `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`
      : minutes >= 60
        ? `${Math.floor(minutes / 60)} h ${minutes % 60} min`
        : `${minutes} min`;
  return ms < 0 ? `-${text}` : text;
}

/** `2026-07-15 11:00 UTC`: a time in UTC to the minute. */
export function utcMinute(at: number | string): string {
  const text = new Date(typeof at === 'number' ? at : Date.parse(at)).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
}

/**
 * A time as operators read it, in UTC to the minute, with how far it is from `now`:
 * `2026-07-15 11:00 UTC (12 min ago)`, `2026-07-15 17:00 UTC (in 5 h 48 min)`. The status page and the CLI use it.
 */
export function readableTime(at: number | string, now: number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  const distance = now - ms;
  const relative = Math.abs(distance) < MINUTE_MS ? 'just now' : distance > 0 ? `${readableDuration(distance)} ago` : `in ${readableDuration(-distance)}`;
  return `${utcMinute(ms)} (${relative})`;
}
