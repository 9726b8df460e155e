// The summary table every drill row goes into.
const COLUMNS = [
  ['drill', 'drill'],
  ['runs', 'runs'],
  ['faults', 'faults injected'],
  ['records', 'records'],
  ['totals', 'expected / accepted'],
  ['loss', 'loss'],
  ['duplicates', 'duplicates'],
  ['verdict', 'verdict'],
];

function cells(row) {
  return {
    drill: row.drill,
    runs: String(row.runs ?? 1),
    faults: row.faults ?? '',
    records: row.records === undefined ? '' : String(row.records),
    totals: row.expected === undefined ? '' : `${row.expected} / ${row.accepted}`,
    loss: row.loss ?? '',
    duplicates: row.duplicates === undefined ? '' : String(row.duplicates),
    verdict: row.verdict,
  };
}

/** A Markdown table: readable in a terminal and pasted as is into docs/reliability.md. */
function markdownTable(rows) {
  const lines = [`| ${COLUMNS.map(([, title]) => title).join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const c = cells(row);
    lines.push(`| ${COLUMNS.map(([key]) => c[key].replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}

module.exports = { markdownTable };
