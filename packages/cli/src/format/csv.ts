/** One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF, or leading/trailing spaces; quotes doubled. */
export function csvField(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, CRLF-terminated as RFC 4180 says. */
export function csvLine(values: ReadonlyArray<string | number | undefined>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
