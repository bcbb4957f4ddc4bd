// Turning what the rules find into Findings: located in the analysed file (macro and
// include frames as related information), with the configured severity, silenced by
// `; xenolab-ignore:` on the line, with the "ignore on this line" fix added, in order,
// without duplicates.

import type { SourceFile, Span } from '../../../asm/src/index.js';
import type { Instr } from './program.js';
import { RULE_BY_CODE } from './rules.js';
import { commentStart, lineBounds, lineOf, onItsLine, positionOf, rangeOf, spanRange, Suppressions, ignoredCodes } from './text.js';
import type { AnalysisOptions, Finding, Fix, RelatedInfo, Severity } from './types.js';

export interface Raw {
  code: string;
  /** An instruction (located where the analysed file has it) or a span. */
  at: Instr | Span;
  message: string;
  related?: { span: Span; message: string }[];
  fixes?: Fix[];
  /** Overrides the rule's default severity (assembler diagnostics). */
  severity?: Severity;
}

const SETTINGS: ReadonlySet<string> = new Set(['error', 'warning', 'info', 'hint', 'off']);

/** Findings stop here: a file that makes more is broken beyond what more would tell. */
const MAX_FINDINGS = 5000;

export class Reporter {
  private readonly raws: Raw[] = [];
  private readonly suppress: Suppressions;

  constructor(private readonly files: readonly SourceFile[], private readonly options: AnalysisOptions) {
    this.suppress = new Suppressions(files);
  }

  add(r: Raw): void {
    if (this.raws.length < MAX_FINDINGS) this.raws.push(r);
  }

  get count(): number {
    return this.raws.length;
  }

  /** Where an instruction comes from, when that is a macro body or an include: the chain, innermost first. */
  private origin(ins: Instr): { span: Span; message: string }[] {
    if (!ins.inner) return [];
    const frames = ins.line.stack;
    const out = [{ span: onItsLine(this.files, ins.inner), message: frames.length && frames[frames.length - 1].kind === 'macro'
      ? `\`${ins.mnemonic}\` here, in macro '${frames[frames.length - 1].name}'`
      : `\`${ins.mnemonic}\` here` }];
    for (let i = frames.length - 1; i >= 1; i--) {
      const f = frames[i];
      out.push({ span: f.span, message: f.kind === 'macro' ? `expanded from macro '${f.name}'` : `included from here (${f.name})` });
    }
    return out;
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const r of this.raws) {
      const rule = RULE_BY_CODE.get(r.code);
      let severity: Severity = r.severity ?? rule?.severity ?? 'warning';
      const configured = this.options.rules?.[r.code];
      const locked = r.code === 'asm' && severity === 'error';
      if (configured !== undefined && !locked && SETTINGS.has(configured)) {
        if (configured === 'off') continue;
        severity = configured;
      }
      const isInstr = 'insn' in r.at;
      const primary: Span = isInstr ? (r.at as Instr).user : (r.at as Span);
      const where = spanRange(this.files, primary);
      if (!where) continue;
      const file = this.files[primary.file];
      const line = lineOf(file, primary.start);
      if (!locked && this.suppressed(r, primary, line)) continue;
      const related: RelatedInfo[] = [];
      const rel = [...(isInstr ? this.origin(r.at as Instr) : []), ...(r.related ?? [])];
      for (const x of rel) {
        const loc = spanRange(this.files, x.span);
        if (loc && !(x.span.file === primary.file && x.span.start === primary.start && x.span.end === primary.end && x.message === r.message)) {
          related.push({ ...loc, message: x.message });
        }
      }
      // where inside macros and includes it was made too: two in one include, or from one
      // macro called twice by another, are two findings
      const key = `${r.code}|${where.file}|${where.range.start.line}:${where.range.start.column}|${origins(r).map((x) => `${x.file}:${x.start}`).join(',')}|${r.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const fixes = [...(r.fixes ?? [])];
      if (!locked) {
        const ignore = ignoreFix(file, line, r.code);
        if (ignore) fixes.push(ignore);
      }
      out.push({ code: r.code, severity, file: where.file, range: where.range, message: r.message, related, fixes });
    }
    out.sort((a, b) => (a.file === b.file ? 0 : a.file < b.file ? -1 : 1) || a.range.start.line - b.range.start.line ||
      a.range.start.column - b.range.start.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    return out;
  }

  private suppressed(r: Raw, primary: Span, line: number): boolean {
    if (this.suppress.silenced(primary.file, line, r.code)) return true;
    // any line of the macro bodies and includes that made it may silence it too
    for (const at of origins(r)) {
      const f = this.files[at.file];
      if (f && this.suppress.silenced(at.file, lineOf(f, at.start), r.code)) return true;
    }
    return false;
  }
}

/** The fix that silences a rule on one line: `; xenolab-ignore: code` (added to a list already there). */
export function ignoreFix(file: SourceFile, line: number, code: string): Fix | null {
  const { start, end } = lineBounds(file, line);
  const text = file.text;
  let last = end;
  while (last > start && (text.charCodeAt(last - 1) === 32 || text.charCodeAt(last - 1) === 9)) last--;
  if (last > start && text.charCodeAt(last - 1) === 92) return null; // a line continued by a backslash
  const c = commentStart(text, start, end);
  const title = `Ignore ${code} on this line`;
  if (c >= 0) {
    const comment = text.slice(c + 1, end);
    if (ignoredCodes(comment).length) {
      const m = /xenolab-ignore:\s*[A-Za-z0-9_\-*]+(?:\s*,\s*[A-Za-z0-9_\-*]+)*/.exec(comment)!;
      const at = c + 1 + m.index + m[0].length;
      return { title, edits: [{ file: file.path, range: rangeOf(file, at, at), newText: `, ${code}` }] };
    }
  }
  const pos = positionOf(file, last);
  return { title, edits: [{ file: file.path, range: { start: pos, end: pos }, newText: `${last > start ? ' ' : ''}; xenolab-ignore: ${code}` }] };
}

/**
 * The places in macro bodies and includes that made a finding: an instruction's own line
 * and each call or %include between it and the analysed file; for the assembler's, its
 * related places (where it really is, and each step between).
 */
function origins(r: Raw): Span[] {
  if (!('insn' in r.at)) return (r.related ?? []).map((x) => x.span);
  const ins = r.at;
  return [...(ins.inner ? [ins.inner] : []), ...ins.stack.slice(1).map((f) => f.span)];
}
