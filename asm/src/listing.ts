// The listing file (`xenolab asm --listing`, like `nasm -l`): for every source line, its
// line number, address, the bytes it produced and its text.

import type { AssembleResult } from './assembler.js';
import { lineColumn } from './source.js';

const BYTES_PER_ROW = 9;

function hex(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += bytes[i].toString(16).toUpperCase().padStart(2, '0');
  return s;
}

export function formatListing(result: AssembleResult): string {
  const out: string[] = [];
  for (const row of result.listing) {
    const span = row.line.node;
    const file = result.files[span.file];
    if (!file) continue;
    const { line } = lineColumn(file, span.start);
    const text = file.text.slice(span.start, span.end).replace(/\s+$/, '');
    const num = String(line).padStart(6);
    const addr = (row.address >>> 0).toString(16).toUpperCase().padStart(8, '0');
    const macro = row.line.stack.some((f) => f.kind === 'macro') ? '<1>' : '   ';
    if (row.bytes.length === 0) {
      const cell = row.reserved ? `<res ${row.reserved.toString(16).toUpperCase()}>` : '';
      out.push(`${num} ${addr} ${cell.padEnd(2 * BYTES_PER_ROW + 1)}${macro} ${text}`);
      continue;
    }
    for (let i = 0; i < row.bytes.length; i += BYTES_PER_ROW) {
      const end = Math.min(i + BYTES_PER_ROW, row.bytes.length);
      const more = end < row.bytes.length ? '-' : ' ';
      const cell = (hex(row.bytes, i, end) + more).padEnd(2 * BYTES_PER_ROW + 1);
      const a = ((row.address + i) >>> 0).toString(16).toUpperCase().padStart(8, '0');
      out.push(i === 0 ? `${num} ${a} ${cell}${macro} ${text}` : `${num} ${a} ${cell}`);
    }
  }
  return out.join('\n') + '\n';
}
