import fc from 'fast-check';
import { cut, table, type TableFit } from '../src/format/table';
import { wrap } from '../src/format/wrap';

const cell = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '-', ':', '0'), maxLength: 60 }), fc.nat({ max: 1_000_000 }));

describe('table fitting', () => {
  it('every line fits the width whenever the uncut columns and the minimums can, and each cell is whole or its start and …', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((columns) =>
          fc.record({
            headers: fc.array(fc.string({ unit: fc.constantFrom('h', 'x'), minLength: 1, maxLength: 8 }), { minLength: columns, maxLength: columns }),
            rows: fc.array(fc.array(cell, { minLength: columns, maxLength: columns }), { maxLength: 6 }),
            shrink: fc.uniqueArray(fc.record({ column: fc.nat({ max: columns - 1 }), min: fc.integer({ min: 0, max: 12 }) }), {
              selector: (s) => s.column,
            }),
            width: fc.integer({ min: 20, max: 140 }),
          }),
        ),
        ({ headers, rows, shrink, width }) => {
          const fit: TableFit = { width, shrink };
          const lines = table(headers, rows, fit).split('\n').slice(0, -1);
          const natural = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
          const cuttable = new Map(shrink.map((s) => [s.column, Math.max(s.min, headers[s.column]!.length, 2)]));
          const smallest = natural.reduce((sum, w, i) => sum + Math.min(w, cuttable.get(i) ?? w), 0) + 2 * (headers.length - 1);
          if (smallest <= width) for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
          // Each cell read back at its column (widths from the dashes under the header): whole, or its start and … where it may be cut.
          const widths = lines[1]!.split('  ').map((dashes) => dashes.length);
          for (const [r, row] of rows.entries()) {
            let offset = 0;
            for (const [i, value] of row.entries()) {
              const text = String(value);
              const shown = lines[r + 2]!.slice(offset, offset + widths[i]!).trim();
              if (text.length <= widths[i]!) expect(shown).toBe(text);
              else {
                expect(cuttable.has(i)).toBe(true);
                expect(shown).toBe(`${text.slice(0, widths[i]! - 1)}…`);
              }
              offset += widths[i]! + 2;
            }
          }
        },
      ),
    );
  });

  it('a last row of empty cells is still a line (shrunk counterexample)', () => {
    expect(table(['h'], [['']], { width: 20, shrink: [] })).toBe('h\n-\n\n');
  });

  it('cut keeps the start and marks the cut', () => {
    expect(cut('l-0123456789abcdef', 8)).toBe('l-01234…');
    expect(cut('short', 8)).toBe('short');
  });

  it('wrap breaks at spaces within the width, indents each line, and keeps a word longer than the width whole', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 15 }), { maxLength: 30 }), fc.integer({ min: 10, max: 60 }), (words, width) => {
        const text = wrap(words.join(' '), width, '  ');
        const lines = text.split('\n').slice(0, -1);
        for (const line of lines) {
          expect(line.startsWith('  ')).toBe(true);
          if (line.trim().includes(' ')) expect(line.length).toBeLessThanOrEqual(width);
        }
        expect(lines.map((l) => l.trim()).join(' ').split(' ').filter(Boolean)).toEqual(words);
      }),
    );
  });
});
