// The file names of a document's `%include` lines, where they are written: links to the
// files, and go-to-definition on a name. From the assembler's lexer (a `%include` in a
// comment or a string is none); only names written as strings (not through a define).

import { makeSourceFile } from '../../../asm/src/index.js';
import { tokenizeLines } from '../../../asm/src/lexer.js';
import type { Range } from '../analysis/types.js';
import { positionAt } from './symbols.js';

export interface IncludeName {
  /** As written, without its quotes. */
  name: string;
  /** The string, quotes included. */
  range: Range;
}

export function includeNames(text: string): IncludeName[] {
  const file = makeSourceFile(0, '', text);
  const out: IncludeName[] = [];
  for (const tokens of tokenizeLines(text)) {
    const sig = tokens.filter((t) => t.kind !== 'comment' && t.kind !== 'newline');
    if (sig.length !== 2 || sig[0].kind !== 'pp' || sig[0].text.toLowerCase() !== '%include' || sig[1].kind !== 'string') continue;
    const s = sig[1];
    out.push({ name: s.text.slice(1, -1), range: { start: positionAt(file, s.start), end: positionAt(file, s.end) } });
  }
  return out;
}
