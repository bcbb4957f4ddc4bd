// What a document defines and uses, for navigation: labels (local `.x` labels belong to
// the label before them), `equ` constants, macros and single-line defines, each with
// where it is defined and every place its name is written, across `%include`d files.
// Built from one assembly of the document (the assembler's trees and tokens), so it
// agrees with what the assembler understood. No LSP types: positions are 0-based
// line/column pairs, as LSP counts them, so the CLI and the browser can use it too.

import { BUILTIN_PREFIX, lineColumn, namesDefinedBy, tokenize, type AssembleResult, type LineNode, type MacroLabel, type SourceFile } from '../../../asm/src/index.js';

export type { Position, Range } from '../analysis/types.js';
import type { Position, Range } from '../analysis/types.js';

export type SymbolKind = 'label' | 'local' | 'constant' | 'macro' | 'define';

export interface Definition {
  /** The full name (`func.loop` for a local `.loop` after `func`). */
  name: string;
  kind: SymbolKind;
  file: string;
  range: Range;
  /** Its value where the assembler knows one (a label's address, a constant's value). */
  value?: number;
  /** For a label: the non-local label it belongs to (locals), for document outlines. */
  parent?: string;
  /** A name that `.x` names after it belong to: a non-local label, or a `struc` (its fields). */
  scope?: boolean;
  /** Made by a macro call that does not write it out (`ENTRY foo` making `foo_entry`): the range is the call's. */
  made?: boolean;
  /** A field of a `struc` (a local defined between `struc` and `endstruc`). */
  field?: boolean;
  /** The line it is defined on, as written (macros: their `%macro` line). */
  text: string;
}

export interface Occurrence {
  name: string;
  file: string;
  range: Range;
}

export interface SymbolIndex {
  definitions: Map<string, Definition>;
  /** Every place a defined name is written (definitions included); found on first use. */
  readonly occurrences: Occurrence[];
  /** The files of the assembly, by path. */
  files: Map<string, SourceFile>;
}

/** A local label's name as written (`.loop`; not `..@x`, nasm's own). */
export function isLocalName(name: string): boolean {
  return name.charCodeAt(0) === 46 && name.charCodeAt(1) !== 46;
}

export function positionAt(file: SourceFile, offset: number): Position {
  const at = lineColumn(file, offset);
  return { line: at.line - 1, column: at.column - 1 };
}

/** The offset of a position; a column past its line's end is the line's end (as LSP says). */
export function offsetAt(file: SourceFile, p: Position): number {
  const starts = file.lineStarts;
  if (p.line >= starts.length) return file.text.length;
  const line = Math.max(0, p.line);
  let end = line + 1 < starts.length ? starts[line + 1] - 1 : file.text.length;
  if (end > starts[line] && file.text.charCodeAt(end - 1) === 13) end--; // CRLF
  return Math.min(end, starts[line] + Math.max(0, p.column));
}

const rangeOf = (f: SourceFile, start: number, end: number): Range => ({ start: positionAt(f, start), end: positionAt(f, end) });

export function buildIndex(r: AssembleResult): SymbolIndex {
  const definitions = new Map<string, Definition>();
  const files = new Map(r.files.map((f) => [f.path, f]));
  const values = new Map(r.image.symbols.map((s) => [s.name, s.value >>> 0]));
  const scopes = callScopes(r.macroLabels);
  // the first definition of a name counts, but a macro takes the place of a word alone on a
  // line (`HYPERCALL` as it is being typed is no label)
  const taken = (d: Definition) => {
    const had = definitions.get(d.name);
    return had !== undefined && !(d.kind === 'macro' && BARE.has(had));
  };
  for (const [id, lines] of r.trees) {
    const f = r.files[id];
    if (!f) continue;
    for (let d of fileDefinitions(f, lines, values, scopes.get(id))) {
      if (taken(d)) continue;
      const value = values.get(d.name);
      if (value !== d.value && (d.kind === 'label' || d.kind === 'local' || d.kind === 'constant')) {
        const bare = BARE.has(d);
        d = { ...d, value };
        if (bare) BARE.add(d);
      }
      definitions.set(d.name, d);
    }
  }
  for (const d of macroDefinitions(r, values)) if (!taken(d)) definitions.set(d.name, d);
  // Where each defined name is written is only needed by navigation requests, not by
  // diagnostics: found on first use, from one tokenization of each file.
  // (the getter keeps the files, not the whole assembly: the index outlives it)
  let occurrences: Occurrence[] | null = null;
  const sourceFiles = r.files;
  return {
    definitions, files,
    get occurrences() {
      return (occurrences ??= findOccurrences(sourceFiles, definitions, scopes));
    },
  };
}

/**
 * The names a file's lines define, in order (a name defined twice: each time), with the
 * values of the assembly that first read them. Kept with the file's trees: a file the
 * assembler did not parse again (an unchanged include, the built-in xen.inc) has the same
 * trees, and so the same definitions.
 */
function fileDefinitions(f: SourceFile, lines: readonly LineNode[], values: ReadonlyMap<string, number>, calls: CallScopes | undefined): readonly Definition[] {
  const kept = DEFINITIONS.get(lines);
  const key = calls ? [...calls].join() : '';
  if (kept && kept.path === f.path && kept.text === f.text && kept.calls === key) return kept.defs;
  const defs: Definition[] = [];
  let parent = '';
  let inStruc = false;
  for (const node of lines) {
    // a macro call that defines a label: locals after it are that label's
    const scope = calls?.get(node.start);
    if (scope !== undefined) parent = scope;
    if (!node.label && !node.preproc && node.statement?.kind !== 'directive') continue;
    if (node.label) {
      const local = isLocalName(node.label.name);
      const name = local ? parent + node.label.name : node.label.name;
      if (!local) parent = node.label.name;
      const kind: SymbolKind = node.statement?.kind === 'equ' ? 'constant' : local ? 'local' : 'label';
      const d: Definition = {
        name, kind, file: f.path, range: rangeOf(f, node.label.start, node.label.start + node.label.name.length), value: values.get(name),
        parent: local ? parent : undefined, scope: !local || undefined, field: (local && inStruc) || undefined, text: firstLine(f.text, node.start, node.end),
      };
      if (!node.label.colon && !node.statement) BARE.add(d);
      defs.push(d);
    }
    // `struc NAME`: NAME is 0 and its fields are NAME.field; `endstruc` makes NAME_size
    const st = node.statement;
    if (st?.kind === 'directive') {
      const directive = st.name.text.toLowerCase();
      const t = st.args[0];
      if (directive === 'struc' && t?.kind === 'ident') {
        parent = t.text;
        inStruc = true;
        defs.push({ name: t.text, kind: 'constant', file: f.path, range: rangeOf(f, t.start, t.end), value: values.get(t.text), scope: true, text: firstLine(f.text, node.start, node.end) });
      } else if (directive === 'endstruc' && parent) {
        inStruc = false;
        const size = `${parent}_size`;
        defs.push({ name: size, kind: 'constant', file: f.path, range: rangeOf(f, st.name.start, st.name.end), value: values.get(size), text: firstLine(f.text, node.start, node.end) });
      }
    }
    const pp = node.preproc;
    if (!pp) continue;
    const { names, macro } = namesDefinedBy(pp.name.text, pp.args);
    for (const t of names) {
      defs.push({ name: t.text, kind: macro ? 'macro' : 'define', file: f.path, range: rangeOf(f, t.start, t.end), text: firstLine(f.text, node.start, node.end) });
    }
  }
  DEFINITIONS.set(lines, { path: f.path, text: f.text, calls: key, defs });
  return defs;
}

/** Labels that are a word alone on a line, without a colon (what a macro call being typed looks like). */
const BARE = new WeakSet<Definition>();

const DEFINITIONS = new WeakMap<readonly LineNode[], { path: string; text: string; calls: string; defs: readonly Definition[] }>();

/** Per file, the macro calls (by where they start) that define a label that is not local: the last one each defines. */
type CallScopes = Map<number, string>;

function callScopes(labels: readonly MacroLabel[]): Map<number, CallScopes> {
  const out = new Map<number, CallScopes>();
  for (const m of labels) {
    if (isLocalName(m.written) || m.name.startsWith('..@')) continue;
    let calls = out.get(m.call.file);
    if (!calls) out.set(m.call.file, (calls = new Map()));
    calls.set(m.call.start, m.name);
  }
  return out;
}


/**
 * The names lines from macros define, each where the call that made it has it: its own
 * text when the call wrote it out (`FUNC my_func`), else the call (`ENTRY foo` for
 * `foo_entry`). Macro-local names (`%%x`) are the macro's own.
 */
function macroDefinitions(r: AssembleResult, values: ReadonlyMap<string, number>): Definition[] {
  const out: Definition[] = [];
  for (const m of r.macroLabels) {
    if (m.name.startsWith('..@')) continue;
    const f = r.files[m.span.file];
    const literal = f !== undefined && f.text.slice(m.span.start, m.span.end) === m.written;
    const at = literal ? m.span : m.call;
    const file = r.files[at.file];
    if (!file) continue;
    const local = isLocalName(m.written);
    out.push({
      name: m.name, kind: m.constant ? 'constant' : local ? 'local' : 'label', file: file.path, range: rangeOf(file, at.start, at.end), value: values.get(m.name),
      parent: local ? m.name.slice(0, m.name.length - m.written.length) : undefined, scope: !local || undefined, made: !literal || undefined,
      text: firstLine(file.text, m.call.start, m.call.end),
    });
  }
  return out;
}

/** The first line of a node's text, trimmed (made only for the nodes that define a name). */
function firstLine(text: string, start: number, end: number): string {
  const nl = text.indexOf('\n', start);
  return text.slice(start, nl >= 0 && nl < end ? nl : end).trim();
}

/**
 * Identifier tokens that name a definition, locals qualified by the label before them.
 * Only in real files: the built-in include is not the user's to navigate.
 */
function findOccurrences(files: readonly SourceFile[], definitions: Map<string, Definition>, scopes: Map<number, CallScopes>): Occurrence[] {
  const occurrences: Occurrence[] = [];
  for (const f of files) {
    if (f.path.startsWith(BUILTIN_PREFIX)) continue;
    let parent = '';
    const calls = scopes.get(f.id);
    for (const t of tokenize(f.text, f.id)) {
      if (t.kind !== 'ident') continue;
      const scope = calls?.get(t.start);
      if (scope !== undefined) parent = scope;
      // `$name` is name (the `$` lets a name be a keyword)
      const text = t.text.length > 1 && t.text.charCodeAt(0) === 36 ? t.text.slice(1) : t.text;
      const local = isLocalName(text);
      let name = local ? parent + text : text;
      const here = local ? undefined : definitions.get(text);
      if (here !== undefined && here.scope && here.file === f.path && isDefinitionAt(here, f, t.start)) parent = text;
      if (!definitions.has(name) && local) name = text; // a `.x` the parent scheme does not explain: leave it as written
      if (definitions.has(name)) occurrences.push({ name, file: f.path, range: rangeOf(f, t.start, t.end) });
    }
  }
  return occurrences;
}

function isDefinitionAt(d: Definition, f: SourceFile, offset: number): boolean {
  return offsetAt(f, d.range.start) === offset;
}

/** The label (or struc) that a `.name` written on line `line` of `path` belongs to: the last one defined above it. */
export function scopeAt(index: SymbolIndex, path: string, line: number): string | undefined {
  let best: Definition | undefined;
  for (const d of index.definitions.values()) {
    if (d.scope && d.file === path && d.range.start.line <= line && (!best || d.range.start.line >= best.range.start.line)) best = d;
  }
  return best?.name;
}

/**
 * scopeAt from the text alone, for text newer than its index: the last label that is not
 * local written (with its colon) at the start of a line above `line`, or a `struc`.
 */
export function labelAbove(text: string, line: number): string | undefined {
  const lines = text.split('\n', line + 1);
  for (let l = Math.min(line, lines.length - 1); l >= 0; l--) {
    const m = /^\s*(?:struc\s+)?\$?([A-Za-z_?@][\w$#@~.?]*)(:|\s|$)/i.exec(lines[l]);
    if (!m || (m[2] !== ':' && !/^\s*struc\s/i.test(lines[l]))) continue;
    return m[1];
  }
  return undefined;
}

/** The defined name written at `p` in `path`, if any. */
export function nameAt(index: SymbolIndex, path: string, p: Position): Occurrence | undefined {
  return index.occurrences.find((o) => o.file === path && contains(o.range, p));
}

export function contains(r: Range, p: Position): boolean {
  const after = p.line > r.start.line || (p.line === r.start.line && p.column >= r.start.column);
  const before = p.line < r.end.line || (p.line === r.end.line && p.column <= r.end.column);
  return after && before;
}

/** The word (identifier, register, mnemonic) at `p` and its range, from the file's text. */
export function wordAt(file: SourceFile, p: Position): { text: string; range: Range } | null {
  const at = offsetAt(file, p);
  const text = file.text;
  const isWord = (c: string) => /[\w.$@?#~]/.test(c);
  let s = at, e = at;
  while (s > 0 && isWord(text[s - 1])) s--;
  while (e < text.length && isWord(text[e])) e++;
  if (s === e) return null;
  // `%define`, `%eval`: the word with its `%` (not `%%name`, `%1` or `%$name`)
  if (s > 0 && text[s - 1] === '%' && /[A-Za-z_]/.test(text[s]) && text[s - 2] !== '%') s--;
  return { text: text.slice(s, e), range: rangeOf(file, s, e) };
}
