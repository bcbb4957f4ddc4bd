// Semantic tokens for a whole document or a range of its lines: what each word is to the
// assembler (a mnemonic, with a modifier for privileged and sensitive ones; a register; a
// label, constant or macro of the document; a number, string, comment, preprocessor
// word), encoded as LSP wants them (relative line/column, length, type, modifier bits).

import { makeSourceFile, tokenize, type Token } from '../../../asm/src/index.js';
import { formsOf, MNEMONICS, registerByName } from '../../../isa/src/index.js';
import { isLocalName, offsetAt, type SymbolIndex } from './symbols.js';

export const TOKEN_TYPES = ['keyword', 'macro', 'label', 'variable', 'enumMember', 'number', 'string', 'comment', 'operator', 'function'] as const;
export const TOKEN_MODIFIERS = ['privileged', 'sensitive', 'definition'] as const;

const T = Object.fromEntries(TOKEN_TYPES.map((t, i) => [t, i])) as Record<(typeof TOKEN_TYPES)[number], number>;
const PRIVILEGED = 1, SENSITIVE = 2, DEFINITION = 4;

/** Lines `first`..`last` (0-based, inclusive) of a document. */
export interface LineSpan {
  first: number;
  last: number;
}

/**
 * The tokens of a document, or of the lines of `lines` (an editor asks for the lines it
 * shows first: only they are read). Positions are the document's either way.
 */
export function semanticTokens(path: string, text: string, index: SymbolIndex | null, lines?: LineSpan): number[] {
  const file = makeSourceFile(0, path, text);
  const starts = file.lineStarts;
  const first = lines ? Math.max(0, lines.first) : 0;
  const last = lines ? Math.min(starts.length - 1, lines.last) : starts.length - 1;
  if (first > last) return [];
  // A `\` line continuation joins lines into one for the lexer: read whole joined lines.
  let from = first, to = last;
  while (from > 0 && continues(text, starts, from - 1)) from--;
  while (to + 1 < starts.length && continues(text, starts, to)) to++;
  const base = starts[from];
  const tokens = tokenize(text.slice(base, to + 1 < starts.length ? starts[to + 1] : text.length), 0);
  const out: number[] = [];
  let lastLine = 0, lastCol = 0;
  let line = from; // tokens come in order: the line of each is found by moving forward
  const push = (start: number, end: number, type: number, mods = 0) => {
    const at = base + start;
    while (line + 1 < starts.length && starts[line + 1] <= at) line++;
    if (line < first || line > last) return;
    const next = line + 1 < starts.length ? starts[line + 1] : Infinity;
    if (base + end > next) return; // tokens do not span lines in this language (a comment ends the line)
    const column = at - starts[line];
    out.push(line - lastLine, line === lastLine ? column - lastCol : column, end - start, type, mods);
    lastLine = line;
    lastCol = column;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    switch (t.kind) {
      case 'comment': push(t.start, t.end, T.comment); break;
      case 'number': push(t.start, t.end, T.number); break;
      case 'string': push(t.start, t.end, T.string); break;
      case 'pp': push(t.start, t.end, T.macro); break;
      case 'ident': {
        const lower = t.text.toLowerCase();
        const info = MNEMONICS[lower];
        const d = index?.definitions.get(t.text);
        // where it is defined: the definition modifier
        const mods = d && d.file === path && offsetAt(file, d.range.start) === base + t.start ? DEFINITION : 0;
        if (d) push(t.start, t.end, d.kind === 'macro' ? T.macro : d.kind === 'constant' || d.kind === 'define' ? T.enumMember : d.kind === 'label' ? T.function : T.label, mods);
        else if (index && isLocalName(t.text) && localNames(index).has(t.text)) push(t.start, t.end, T.label, tokens[i + 1]?.text === ':' ? DEFINITION : 0);
        else if (info) push(t.start, t.end, T.keyword, info.cls === 'privileged' || privilegedForm(lower, tokens, i) ? PRIVILEGED : info.cls === 'sensitive' ? SENSITIVE : 0);
        else if (registerByName(lower)) push(t.start, t.end, T.variable);
        break;
      }
      default: break;
    }
  }
  return out;
}

/**
 * The names of the index's local labels as written (`.loop` for `func.loop`): a `.loop` in
 * the text is one of them, whichever label it is under (a range may not show that label).
 */
function localNames(index: SymbolIndex): Set<string> {
  let names = LOCAL_NAMES.get(index);
  if (!names) {
    names = new Set();
    for (const d of index.definitions.values()) if (d.kind === 'local' && d.parent !== undefined) names.add(d.name.slice(d.parent.length));
    LOCAL_NAMES.set(index, names);
  }
  return names;
}
const LOCAL_NAMES = new WeakMap<SymbolIndex, Set<string>>();

/** Whether line `l` ends in a `\` that continues it onto the next (trailing blanks allowed). */
function continues(text: string, starts: readonly number[], l: number): boolean {
  let i = (l + 1 < starts.length ? starts[l + 1] : text.length) - 1;
  while (i >= starts[l] && (text[i] === '\n' || text[i] === '\r' || text[i] === ' ' || text[i] === '\t')) i--;
  return i >= starts[l] && text[i] === '\\';
}

/** Mnemonics with privileged forms told apart by a register operand (mov to or from CR/DR). */
const SPECIAL_REGISTER_PRIVILEGED = new Set(Object.keys(MNEMONICS).filter((m) => formsOf(m).some((f) => f.cls === 'privileged' && f.operands.some((k) => k === 'creg' || k === 'dreg'))));

/** Whether the instruction whose mnemonic is tokens[at] takes a control or debug register on its line. */
function privilegedForm(mnemonic: string, tokens: readonly Token[], at: number): boolean {
  if (!SPECIAL_REGISTER_PRIVILEGED.has(mnemonic)) return false;
  for (let j = at + 1; j < tokens.length && tokens[j].kind !== 'newline' && tokens[j].kind !== 'comment'; j++) {
    const cls = tokens[j].kind === 'ident' ? registerByName(tokens[j].text.toLowerCase())?.cls : undefined;
    if (cls === 'creg' || cls === 'dreg') return true;
  }
  return false;
}
