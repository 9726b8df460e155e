/** `text` broken at spaces into lines of at most `width` characters (a longer word stays whole), each after `indent`. */
export function wrap(text: string, width: number, indent = ''): string {
  const room = Math.max(1, width - indent.length);
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (current.length > 0 && current.length + 1 + word.length > room) {
      lines.push(current);
      current = word;
    } else {
      current = current.length === 0 ? word : `${current} ${word}`;
    }
  }
  if (current.length > 0) lines.push(current);
  return lines.map((line) => `${indent}${line}\n`).join('');
}
