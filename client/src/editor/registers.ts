// Where a line of guest source names registers, for the inline values shown at the line
// a debugger stopped on: register names from isa/'s table, outside comments and strings,
// not as part of a longer name (`.eax_saved`, `struc.esp`).

import { REGISTERS } from '../../../isa/src/registers.js';

export interface RegisterMention {
  /** Lower-case, as the adapter evaluates it. */
  name: string;
  start: number;
  end: number;
}

const NAMES = new Set(REGISTERS.map((r) => r.name));
const WORD = /[A-Za-z_.$#@~?][\w.$#@~?]*/g;

/** The registers a line names, each once (its first mention), in order. */
export function registerMentions(line: string): RegisterMention[] {
  const code = codePart(line);
  const out: RegisterMention[] = [];
  const seen = new Set<string>();
  for (const m of code.matchAll(WORD)) {
    const name = m[0].toLowerCase();
    if (!NAMES.has(name) || seen.has(name)) continue;
    seen.add(name);
    out.push({ name, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** The line with its comment cut and its strings blanked (same length up to the comment). */
function codePart(line: string): string {
  let out = '';
  let quote: string | null = null;
  for (const ch of line) {
    if (quote !== null) {
      out += ' ';
      if (ch === quote) quote = null;
    } else if (ch === ';') break;
    else if (ch === '"' || ch === "'" || ch === '`') (quote = ch), (out += ' ');
    else out += ch;
  }
  return out;
}
