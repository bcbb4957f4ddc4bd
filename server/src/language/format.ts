// Document formatting in NASM's usual layout: labels at column 0, instructions and data
// indented one level (data after a label kept in the column it was aligned to), one space
// between a mnemonic and its operands and after each comma, runs of spaces inside
// operands made one, trailing comments kept at their column when
// the code still fits before it (else one space after the code), comment lines indented
// like code unless they start at column 0 or continue the comment of the line above.
//
// It only ever changes whitespace between tokens (never inside a string, never joining
// two tokens) and never adds or removes a line, so what a file assembles to is unchanged.
// Lines it cannot be sure of are left exactly as written: preprocessor lines (%define,
// %macro, macro parameters), assembler directives, lines with a syntax error, and lines
// continued with a backslash. Macro arguments are kept as written after the macro name.
// Formatting a formatted document changes nothing.

import { makeSourceFile, parseLine } from '../../../asm/src/index.js';
import { tokenizeLines, type Token } from '../../../asm/src/lexer.js';
import { MNEMONICS, PREFIXES } from '../../../isa/src/index.js';
import { lineBounds } from '../analysis/text.js';
import { positionAt, type Range } from './symbols.js';

export interface FormatOptions {
  tabSize: number;
  insertSpaces: boolean;
}

export interface LineEdit {
  /** The whole content of one line (its line break excluded). */
  range: Range;
  newText: string;
}

/** Edits that format the document, or only the lines `first..last` (0-based, inclusive) of it. */
export function formatDocument(text: string, options: FormatOptions, first = 0, last = Infinity): LineEdit[] {
  const tab = Math.max(1, Math.floor(options.tabSize) || 4);
  const indent = options.insertSpaces ? ' '.repeat(tab) : '\t';
  const file = makeSourceFile(0, '', text);
  const count = file.lineStarts.length;
  const lineOf = (offset: number) => positionAt(file, offset).line;

  // the tokens of each physical line; lines of a logical line continued with `\` are kept
  const tokensOf: (Token[] | undefined)[] = new Array(count);
  const keep = new Uint8Array(count);
  for (const tokens of tokenizeLines(text)) {
    if (tokens.length === 0) continue;
    const a = lineOf(tokens[0].start);
    const b = lineOf(tokens[tokens.length - 1].start);
    if (a !== b) for (let l = a; l <= b; l++) keep[l] = 1;
    else tokensOf[a] = tokens;
  }

  const visual = (s: string, from = 0) => {
    let col = from;
    for (const c of s) col = c === '\t' ? col + tab - (col % tab) : col + 1;
    return col;
  };
  /** Whitespace from visual column `from` to `to`: with tabs for indentation, tabs when they land there exactly. */
  const pad = (from: number, to: number): string => {
    if (options.insertSpaces || to % tab !== 0) return ' '.repeat(Math.max(0, to - from));
    return '\t'.repeat(Math.max(0, to / tab - Math.floor(from / tab)));
  };

  const edits: LineEdit[] = [];
  // the comment column of the line above, before and after formatting (comment lines that continue it follow it)
  let above: { was: number; now: number } | null = null;
  for (let l = 0; l < count; l++) {
    const { start, end } = lineBounds(file, l);
    const line = text.slice(start, end);
    let now: string | null;
    let comment: { was: number; now: number } | null = null;
    const tokens = tokensOf[l];
    if (keep[l] || /\\\s*$/.test(line) || (l > 0 && /\\\s*$/.test(text.slice(lineBounds(file, l - 1).start, lineBounds(file, l - 1).end)))) {
      now = null;
    } else if (!tokens) {
      now = '';
    } else {
      const last = tokens[tokens.length - 1];
      const hasComment = last.kind === 'comment';
      const code = hasComment ? tokens.slice(0, -1) : tokens;
      const commentText = hasComment ? last.text.trimEnd() : '';
      const was = hasComment ? visual(text.slice(start, last.start)) : -1;
      if (code.length === 0) {
        const col: number = was === 0 ? 0 : above && above.was === was ? above.now : visual(indent);
        now = pad(0, col) + commentText;
        comment = { was, now: col };
      } else {
        const body = formatCode(text, code, indent, visual, pad);
        if (body === null) now = null;
        else if (!hasComment) now = body;
        else {
          const width = visual(body);
          const col = was > width ? was : width + 1;
          now = body + ' '.repeat(col - width) + commentText;
          comment = { was, now: col };
        }
      }
    }
    if (now === null) {
      // kept as written: its trailing comment column does not move
      const tokens2 = tokensOf[l];
      const c = tokens2 && tokens2[tokens2.length - 1];
      above = c && c.kind === 'comment' ? { was: visual(text.slice(start, c.start)), now: visual(text.slice(start, c.start)) } : null;
      continue;
    }
    above = comment;
    if (l >= first && l <= last && now !== line) edits.push({ range: { start: { line: l, column: 0 }, end: { line: l, column: end - start } }, newText: now });
  }
  return edits;
}

/** The code of one line, formatted; null to keep the line as written. */
function formatCode(text: string, code: Token[], indent: string, visual: (s: string) => number, pad: (from: number, to: number) => string): string | null {
  if (code.some((t) => t.kind === 'pp' || t.kind === 'bad')) return null;
  const node = parseLine(code);
  if (node.errors.length || node.preproc) return null;
  const st = node.statement;
  if (st?.kind === 'directive') return null;
  const stTokens = st ? code.filter((t) => t.start >= st.start) : [];
  const label = node.label;
  let labelText = '';
  if (label) {
    const colon = label.colon ? code.find((t) => t.start >= label.start + label.name.length && t.text === ':') : undefined;
    labelText = text.slice(label.start, colon ? colon.end : label.start + label.name.length);
  }
  if (!st || stTokens.length === 0) return labelText || null;
  let statement: string;
  if (st.kind === 'equ') statement = text.slice(stTokens[0].start, stTokens[stTokens.length - 1].end);
  else if (st.kind === 'instruction' && isMacroCall(st.mnemonic.text, st.prefixes.length)) {
    // a macro's arguments are its text: only the space after its name is set
    const [name, ...args] = stTokens;
    statement = source(text, name) + (args.length ? ' ' + text.slice(args[0].start, args[args.length - 1].end) : '');
  } else statement = joinTokens(text, stTokens);
  if (!label) return indent + statement;
  if (!label.colon) {
    // `name equ value`, `table times 4 dd 0`: the space between the name and the rest as written
    const gap = text.slice(label.start + label.name.length, stTokens[0].start);
    return labelText + (/^[ \t]+$/.test(gap) ? gap : ' ') + statement;
  }
  const width = visual(labelText);
  const to = visual(indent);
  // data aligned in a column after its labels (`reason:     dd 0`) stays in that column
  const gap = text.slice(label.start + labelText.length, stTokens[0].start);
  const data = st.kind === 'data' || st.kind === 'reserve' || st.kind === 'times';
  if (data && /^[ \t]+$/.test(gap) && visual(labelText + gap) > Math.max(to, width + 1)) return labelText + gap + statement;
  return labelText + (width < to ? pad(width, to) : ' ') + statement;
}

function isMacroCall(mnemonic: string, prefixes: number): boolean {
  const w = mnemonic.toLowerCase();
  return prefixes === 0 && MNEMONICS[w] === undefined && !(w in PREFIXES);
}

/** Tokens joined by one space where they were apart, none before a comma and one after. */
function joinTokens(text: string, tokens: Token[]): string {
  const comma = (t: Token) => t.kind === 'op' && t.text === ',';
  let out = source(text, tokens[0]);
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    if (comma(t)) out += ',';
    else out += (comma(prev) || t.start > prev.end ? ' ' : '') + source(text, t);
  }
  return out;
}

const source = (text: string, t: Token) => text.slice(t.start, t.end);
