// Quick fixes for names the assembler does not know (`asm` findings):
//
// - Add a missing include: the name is one that xen.inc defines (a macro such as HYPERCALL,
//   a constant, a struct or field name) and the file does not include it, or one that an
//   include file the host names as a candidate defines (`AnalysisInput.includeCandidates`,
//   e.g. the .inc files next to the document). What an include defines is read from one
//   assembly of just that include (kept per file text). Not offered when the include does
//   not assemble alone, or defines a name the file defines itself (it would clash).
//   `%include "xen.inc"` goes after the leading comments and `bits`/`cpu` lines, before
//   other includes (which may use it); another include after those.
// - Define a missing label: an undefined name that is the target of a jump or call
//   written in the file gets a stub: `name:` and `ret` for a call target, `ud2` (a fault
//   until the user writes it) for a jump target. A global name goes at the end of the
//   file, in the section of the code that uses it; a local `.name` at the end of the code
//   of its label, when that ends in an unconditional jump or a return (nothing falls into
//   the stub) and holds no section switch or preprocessor directive.

import {
  assemble, namesDefinedBy, withBuiltins, XEN_INCLUDE_NAME, type AssembleResult, type Diagnostic, type LineNode, type SourceFile, type SourceProvider,
} from '../../../../asm/src/index.js';
import { MNEMONICS } from '../../../../isa/src/index.js';
import { commentStart, lineBounds, lineOf, positionOf } from '../text.js';
import type { Fix, TextEdit } from '../types.js';
import { appendSections, insertAfterLine, scopeLabel } from './edit.js';

export interface IncludeSource {
  path: string;
  provider: SourceProvider;
  includeCandidates?: readonly string[];
  definedByIncluder?: (name: string) => boolean;
}

const UNDEFINED = /^(?:symbol|structure) '([^']+)' is not defined/;
const UNKNOWN = /^unknown instruction '([^']+)'/;
const LEADING = /^(?:bits|use16|use32|cpu|default)\b|^\[\s*bits\b/i;
const INCLUDE = /^%include\b/i;
const JUMPS = new Set(['jmp', 'call', 'loop', 'loope', 'loopz', 'loopne', 'loopnz', 'jecxz', 'jcxz']);
const ENDS = new Set(['jmp', 'ret', 'retn', 'retf', 'iret', 'iretd', 'ud2']);
const SECTIONS = new Set(['section', 'segment', 'absolute', 'struc', 'endstruc']);
const ALIGNS = new Set(['align', 'alignb']);

/** Names an include file defines, by its resolved path (while its text is the same). */
const DEFINED = new Map<string, { text: string; names: ReadonlySet<string> | null }>();
const MAX_CACHED = 32;

/** Fixes for the assembler's diagnostics of one analysis (computed lazily, once per analysis). */
export class SymbolFixes {
  private own: Set<string> | null = null;
  private readonly includes = new Map<string, ReadonlySet<string> | null>();
  private readonly edits = new Map<string, TextEdit>();
  private readonly root: SourceFile | undefined;

  constructor(private readonly result: AssembleResult, private readonly input: IncludeSource | undefined) {
    this.root = result.files[0];
  }

  fixesFor(d: Diagnostic): Fix[] {
    if (!this.root || d.severity !== 'error') return [];
    const name = this.nameOf(d);
    if (!name) return [];
    const include = this.includeFix(name);
    if (include) return [include];
    const stub = d.code === 'undefined-symbol' ? this.labelFix(d, name) : null;
    return stub ? [stub] : [];
  }

  /** The undefined name (a symbol, or a macro taken for an instruction) as written, or null when `d` is not about one. */
  nameOf(d: Diagnostic): string | null {
    const m = (d.code === 'undefined-symbol' ? UNDEFINED : d.code === 'unknown-instruction' ? UNKNOWN : null)?.exec(d.message);
    if (!m) return null;
    if (d.code === 'undefined-symbol') return m[1];
    for (const s of [d.span, ...d.related.map((r) => r.span)]) {
      const text = this.result.files[s.file]?.text.slice(s.start, s.end).trim().split(/\s/)[0];
      if (text && text.toLowerCase() === m[1]) return text;
    }
    return null;
  }

  // -------------------------------------------------------------------------------------
  // Includes

  private includeFix(name: string): Fix | null {
    if (!this.input) return null;
    for (const inc of [XEN_INCLUDE_NAME, ...(this.input.includeCandidates ?? [])]) {
      if (!this.usable(inc)?.has(name)) continue;
      let edit = this.edits.get(inc);
      if (!edit) this.edits.set(inc, (edit = this.includeEdit(inc, inc === XEN_INCLUDE_NAME)));
      return { title: `Add %include "${inc}" (it defines ${name})`, edits: [edit] };
    }
    return null;
  }

  /** What an include the file does not include yet defines, when including it cannot clash with the file's own names (once per analysis). */
  private usable(inc: string): ReadonlySet<string> | null {
    let got = this.includes.get(inc);
    if (got !== undefined) return got;
    got = null;
    const included = this.result.files.some((f, i) => i > 0 && (f.path === inc || f.path.endsWith(`/${inc}`) || f.path.endsWith(`\\${inc}`)));
    if (!included && !/["\n]/.test(inc)) {
      const names = this.definedBy(inc);
      got = names;
      if (names) for (const n of this.ownNames()) if (names.has(n)) got = null;
    }
    this.includes.set(inc, got);
    return got;
  }

  private definedBy(inc: string): ReadonlySet<string> | null {
    const provider = withBuiltins(this.input!.provider);
    const file = provider.read(inc, this.input!.path);
    if (!file) return null;
    const cached = DEFINED.get(file.path);
    if (cached && cached.text === file.text) return cached.names;
    let names: Set<string> | null = null;
    try {
      const probe = assemble({ path: this.input!.path, text: `%include "${inc}"\n`, provider });
      // Names it uses but leaves to the including file (a guest's stack_top) are no reason to refuse it.
      if (probe.diagnostics.every((d) => d.severity !== 'error' || d.code === 'undefined-symbol')) names = definedNames(probe, 1);
    } catch {
      names = null;
    }
    if (DEFINED.size >= MAX_CACHED) DEFINED.clear();
    DEFINED.set(file.path, { text: file.text, names });
    return names;
  }

  /** What the document itself defines (its labels and constants, macros and defines of its own files). */
  private ownNames(): Set<string> {
    this.own ??= definedNames(this.result, 0, (f) => !f.path.startsWith('<builtin>'));
    return this.own;
  }

  /** `%include "inc"` after the leading comments and bits/cpu lines (and, unless `first`, after the includes there). */
  private includeEdit(inc: string, first: boolean): TextEdit {
    const f = this.root!;
    let at = 0;
    for (let line = 0; line < f.lineStarts.length; line++) {
      const { start, end } = lineBounds(f, line);
      const c = commentStart(f.text, start, end);
      const code = f.text.slice(start, c < 0 ? end : c).trim();
      if (code && !LEADING.test(code) && !(INCLUDE.test(code) && !first)) break;
      if (code) at = line + 1;
    }
    const offset = at < f.lineStarts.length ? f.lineStarts[at] : f.text.length;
    const pos = positionOf(f, offset);
    const lead = offset === f.text.length && f.text.length && !f.text.endsWith('\n') ? '\n' : '';
    return { file: f.path, range: { start: pos, end: pos }, newText: `${lead}%include "${inc}"\n` };
  }

  // -------------------------------------------------------------------------------------
  // Label stubs

  private labelFix(d: Diagnostic, name: string): Fix | null {
    const f = this.root!;
    if (d.span.file !== 0 || d.related.length) return null;
    const nodes = this.result.trees.get(0) ?? [];
    // the line holding the span: one node per line, unless continuations joined some
    const holds = (n: LineNode | undefined) => n !== undefined && n.start <= d.span.start && d.span.end <= n.end;
    let at = lineOf(f, d.span.start);
    if (!holds(nodes[at])) at = nodes.findIndex(holds);
    const node = nodes[at];
    const st = node?.statement;
    if (!st || st.kind !== 'instruction' || st.operands.length !== 1) return null;
    const mnemonic = st.mnemonic.text.toLowerCase();
    if (!MNEMONICS[mnemonic] || !(JUMPS.has(mnemonic) || mnemonic.startsWith('j'))) return null;
    const op = st.operands[0];
    if (op.kind !== 'imm' || op.expr.kind !== 'sym' || op.expr.name !== name) return null;
    const call = mnemonic === 'call';
    const line = lineOf(f, st.start) + 1;
    const body = call ? 'ret' : 'ud2';
    const todo = `; TODO: xenolab stub for the ${call ? 'call' : 'jump'} at line ${line}${call ? '' : ' (ud2 faults until this is written)'}`;
    const title = `Define label '${name}' (a stub${call ? ' that returns' : ''})`;
    if (/^\.[A-Za-z_?][\w$#@~?]*$/.test(name)) {
      const edit = this.localStub(nodes, at, [`${name}: ${todo}`, body]);
      return edit ? { title, edits: [edit] } : null;
    }
    if (!/^[A-Za-z_?][\w$#@~?]*$/.test(name)) return null;
    return { title, edits: [appendSections(f, [{ section: this.sectionOf(nodes, at), lines: [`${name}: ${todo}`, `    ${body}`] }])] };
  }

  private sections: string[] | null = null;

  /** The section line `at` of the root file is in: the last switch above it (a macro such as XEN_ELFNOTE puts back the one it left). */
  private sectionOf(nodes: readonly LineNode[], at: number): string {
    if (!this.sections) {
      this.sections = [];
      let section = '.text';
      for (const n of nodes) {
        const st = n.statement;
        const arg = st?.kind === 'directive' && /^(section|segment)$/i.test(st.name.text) ? st.args.find((t) => t.text.trim()) : undefined;
        if (arg) section = arg.text;
        this.sections.push(section);
      }
    }
    return this.sections[at] ?? '.text';
  }

  /** After the last statement of the code of the label that `.name` belongs to, when nothing falls into it. */
  private localStub(nodes: readonly LineNode[], at: number, lines: string[]): TextEdit | null {
    const symbols = new Set(this.result.image.symbols.map((s) => s.name));
    const isScope = (n: LineNode) => scopeLabel(n, (x) => symbols.has(x)) && !n.label!.name.startsWith('..@');
    let parent = at;
    while (parent >= 0 && !isScope(nodes[parent])) parent--;
    if (parent < 0) return null;
    // to the next label of its own or section switch
    const switches = (n: LineNode) => n.statement?.kind === 'directive' && SECTIONS.has(n.statement.name.text.toLowerCase());
    let end = at + 1;
    while (end < nodes.length && !isScope(nodes[end]) && !switches(nodes[end])) end++;
    let last: LineNode | null = null;
    for (let i = parent; i < end; i++) {
      const n = nodes[i];
      if (n.preproc) return null;
      if (switches(n)) return null;
      // (padding after the code, `align 4096, db 0` before the next label, is not the code's end)
      if (n.statement && !(n.statement.kind === 'directive' && ALIGNS.has(n.statement.name.text.toLowerCase()))) last = n;
    }
    const st = last?.statement;
    if (!last || st?.kind !== 'instruction' || !ENDS.has(st.mnemonic.text.toLowerCase())) return null;
    return insertAfterLine(this.root!, st.start, lines);
  }
}

/** Labels, constants and struct names of an assembly, and the macros and defines of its files from `firstFile` on. */
function definedNames(r: AssembleResult, firstFile: number, keep: (f: SourceFile) => boolean = () => true): Set<string> {
  const out = new Set<string>();
  for (const s of r.image.symbols) out.add(s.name);
  for (const [id, lines] of r.trees) {
    const f = r.files[id];
    if (id < firstFile || !f || !keep(f)) continue;
    for (const n of lines) if (n.preproc) for (const t of namesDefinedBy(n.preproc.name.text, n.preproc.args).names) out.add(t.text);
  }
  return out;
}
