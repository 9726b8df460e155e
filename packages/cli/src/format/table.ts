/** How a table fits a terminal: columns that may be cut, with `…`, when the rows are wider than `width`. */
export interface TableFit {
  /** The widest a line may be. */
  readonly width: number;
  /** Column indexes that may be cut, with the fewest characters each keeps. */
  readonly shrink: ReadonlyArray<{ readonly column: number; readonly min: number }>;
}

/** The CLI's default table width (`--wide` lifts it). */
export const DEFAULT_WIDTH = 120;

/**
 * A plain-text table: a header row, aligned columns, numbers right-aligned. With `fit`, the listed columns are
 * cut (ending in `…`) until every line fits: always the one furthest above its minimum, so long values give up
 * characters before short ones; other columns are never cut.
 */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, fit?: TableFit): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => (row[i] ?? '').length)));
  if (fit !== undefined) shrinkToFit(headers, widths, fit);
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => {
        const text = cut(cell, widths[i]!);
        return numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function shrinkToFit(headers: readonly string[], widths: number[], fit: TableFit): void {
  let excess = widths.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, widths.length - 1) - fit.width;
  const floors = fit.shrink.map(({ column, min }) => ({ column, floor: Math.max(min, headers[column]?.length ?? 0, 2) }));
  while (excess > 0) {
    let widest: { column: number; floor: number } | undefined;
    for (const candidate of floors) {
      const room = widths[candidate.column]! - candidate.floor;
      if (room > 0 && (widest === undefined || room > widths[widest.column]! - widest.floor)) widest = candidate;
    }
    if (widest === undefined) return;
    widths[widest.column]!--;
    excess--;
  }
}

/** `text` in at most `width` characters: cut ones end in `…`. */
export function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
