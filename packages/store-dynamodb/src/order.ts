/** Code-unit order, independent of locale, like every other store. */
export function compareKeysOf(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
