// Folding ranges of a document: macro bodies (%macro..%endmacro), conditional blocks
// (%if..%elif/%else..%endif, each branch its own), %rep blocks, struc/istruc layouts,
// sections (to the next section), functions (a label to the next non-local label), and
// runs of comment lines. From the assembler's own lexer and line parser, so a `;` in a
// string or a colon-less label is what the assembler takes it for.

import { MACRO_OPENERS, makeSourceFile, parseLine } from '../../../asm/src/index.js';
import { tokenizeLines, type Token } from '../../../asm/src/lexer.js';
import { positionAt } from './symbols.js';

export interface Fold {
  /** 0-based; the start line stays visible. */
  startLine: number;
  endLine: number;
  kind?: 'comment';
}

const OPENERS: Readonly<Record<string, string>> = { ...Object.fromEntries(MACRO_OPENERS.map((d) => [d, 'macro'])), '%rep': 'rep' };
const CLOSERS: Readonly<Record<string, string>> = { '%endmacro': 'macro', '%endm': 'macro', '%endrep': 'rep' };

export function foldingRanges(text: string): Fold[] {
  const file = makeSourceFile(0, '', text);
  const lineOf = (t: Token) => positionAt(file, t.start).line;
  const out: Fold[] = [];
  const fold = (startLine: number, endLine: number, kind?: Fold['kind']) => {
    if (endLine > startLine) out.push(kind ? { startLine, endLine, kind } : { startLine, endLine });
  };
  // open blocks: preprocessor blocks close on the line before their closer (which stays visible)
  const open: { kind: string; line: number }[] = [];
  const close = (kind: string, line: number): boolean => {
    for (let i = open.length - 1; i >= 0; i--) {
      if (open[i].kind !== kind) continue;
      fold(open[i].line, line - 1);
      open.length = i;
      return true;
    }
    return false;
  };
  let section = -1;
  let label = -1;
  /** The last line holding something other than a comment. */
  let lastCode = -1;
  let comments = { start: -1, end: -2 };
  const endComments = () => {
    if (comments.start >= 0) fold(comments.start, comments.end, 'comment');
    comments = { start: -1, end: -2 };
  };
  const inMacro = () => open.some((o) => o.kind === 'macro');

  for (const tokens of tokenizeLines(text)) {
    if (tokens.length === 0) continue;
    const first = lineOf(tokens[0]);
    const last = lineOf(tokens[tokens.length - 1]);
    if (tokens.length === 1 && tokens[0].kind === 'comment') {
      if (first === comments.end + 1) comments.end = first;
      else {
        endComments();
        comments = { start: first, end: first };
      }
      continue;
    }
    endComments();
    const head = tokens[0];
    if (head.kind === 'pp') {
      const word = head.text.toLowerCase();
      if (OPENERS[word]) open.push({ kind: OPENERS[word], line: first });
      else if (CLOSERS[word]) close(CLOSERS[word], first);
      else if (/^%if/.test(word)) open.push({ kind: 'if', line: first });
      else if (/^%el(se|if)/.test(word)) {
        if (close('if', first)) open.push({ kind: 'if', line: first });
      } else if (word === '%endif') close('if', first);
      lastCode = last;
      continue;
    }
    if (!inMacro()) {
      const node = parseLine(tokens);
      const st = node.statement;
      const directive = st?.kind === 'directive' ? st.name.text.toLowerCase() : '';
      if (directive === 'section' || directive === 'segment') {
        if (label >= 0) fold(label, lastCode);
        if (section >= 0) fold(section, lastCode);
        label = -1;
        section = first;
      } else if (directive === 'struc' || directive === 'istruc') open.push({ kind: directive, line: first });
      else if (directive === 'endstruc') close('struc', first);
      else if (directive === 'iend') close('istruc', first);
      const name = node.label?.name;
      if (name !== undefined && !name.startsWith('.') && st?.kind !== 'equ') {
        if (label >= 0) fold(label, lastCode);
        label = first;
      }
      // an `align` with nothing else on its line pads for what comes next: not the function's
      if ((directive === 'align' || directive === 'alignb') && !node.label) continue;
    }
    lastCode = last;
  }
  endComments();
  if (label >= 0) fold(label, lastCode);
  if (section >= 0) fold(section, lastCode);
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}
