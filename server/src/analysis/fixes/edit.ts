// What every quick fix is made of: text edits of the analysed file (replacing a statement
// or a macro call with lines of code, inserting lines, sections appended at the end of
// the file), fresh label names, and how the fix names Xen's constants, struct fields,
// hypercalls and the program's addresses.

import { someLeaf, type AssembleResult, type Expr, type LineNode, type SourceFile } from '../../../../asm/src/index.js';
import { hypercallByName, xenConstant, xenField } from '../../../../isa/src/index.js';
import { hex, inImage, type Context } from '../context.js';
import { lineBounds, lineOf, positionOf, rangeOf } from '../text.js';
import type { TextEdit } from '../types.js';

/** How the fix text names Xen's constants, struct fields and hypercalls in this file. */
export class Names {
  constructor(private readonly ctx: Context) {}

  private has(name: string): boolean {
    return this.ctx.program.xenInc && this.ctx.program.symbolByName.has(name);
  }

  constant(name: string): string {
    return this.has(name) ? name : String(xenConstant(name)?.value ?? 0);
  }

  /** `struct.field` (nested fields as a sum: vcpu_info.arch + arch_vcpu_info.cr2). */
  field(path: [string, string][]): string {
    const parts = path.map(([s, f]) => (this.has(`${s}.${f}`) ? `${s}.${f}` : String(xenField(s, f)?.offset ?? 0)));
    return parts.filter((p) => p !== '0' || parts.length === 1).join(' + ') || '0';
  }

  /** `name_size` when xen.inc has it, else the number. */
  size(struct: string, bytes: number): string {
    return this.has(`${struct}_size`) ? `${struct}_size` : String(bytes);
  }

  hypercall(name: string): string[] {
    if (this.ctx.program.xenInc && this.has(`__HYPERVISOR_${name}`)) return [`HYPERCALL ${name}`];
    return [`mov eax, ${hypercallByName(name)?.number ?? 0}`, 'int 0x82'];
  }

  hypercallNumber(name: string): string {
    return this.has(`__HYPERVISOR_${name}`) ? `__HYPERVISOR_${name}` : String(hypercallByName(name)?.number ?? 0);
  }
}

/**
 * A value as fix text that stays right when the fix moves code and data: an address inside
 * the image by the label at it (null when none has one: a number would go stale), any
 * other value as a number.
 */
export function valueText(ctx: Context, v: number): string | null {
  const a = v >>> 0;
  if (!inImage(ctx, a)) return a < 256 ? String(a) : hex(a);
  const labels = (ctx.program.labelsAt.get(a) ?? []).filter((s) => !s.name.startsWith('..@'));
  const plain = labels.find((s) => !s.name.includes('.')) ?? labels[0];
  return plain ? plain.name : null;
}

/**
 * The constant a `mov r32, imm` or `xor r32, r32` (instruction `def`) sets, as the program
 * wrote it, when that text means the same in data appended at the end of the file: written
 * directly in the analysed file (not from a macro or a %define), with no `$`, `$$` or local
 * label in it. Else null.
 */
export function writtenConstant(ctx: Context, def: number): string | null {
  const ins = ctx.program.instrs[def];
  const root = ctx.program.files[0];
  if (!ins || !root || !ins.direct || ins.user.file !== 0) return null;
  const [dst, src] = ins.statement.kind === 'instruction' ? ins.statement.operands : [];
  if (dst?.kind !== 'reg' || dst.reg.cls !== 'r32') return null;
  if (ins.mnemonic === 'xor') return src?.kind === 'reg' && src.reg === dst.reg ? '0' : null;
  if (ins.mnemonic !== 'mov' || src?.kind !== 'imm') return null;
  const st = ins.statement;
  const elsewhere = (e: { file: number; start: number; end: number }) => e.file !== 0 || e.start < st.start || e.end > st.end;
  const moves = (e: Expr) => e.kind === 'here' || e.kind === 'sectstart' || (e.kind === 'sym' && e.name.startsWith('.'));
  if (elsewhere(src.expr) || someLeaf(src.expr, (e) => elsewhere(e) || moves(e))) return null;
  return root.text.slice(src.expr.start, src.expr.end);
}

/** The name of the section an address is in (its code or data), or null. */
export function sectionAt(result: AssembleResult, address: number): string | null {
  const a = address >>> 0;
  return result.image.sections.find((s) => a >= s.vaddr && a < s.vaddr + s.size)?.name ?? null;
}

export function uniqueLabel(ctx: Context, base: string): string {
  let name = base;
  for (let k = 2; ctx.program.symbolByName.has(name) || ctx.program.files[0]?.text.includes(name); k++) name = `${base}_${k}`;
  return name;
}

/** Lines of code at an indent: labels (`name:`) stay at the start of their line. */
export function indentLines(lines: readonly string[], indent: string, first = true): string {
  return lines.map((l, i) => (i === 0 && !first) || /^[^\s;]+:(\s*;.*)?$/.test(l) ? l : indent + l).join('\n');
}

/** The indent of the line holding `offset` (its leading blanks), or four spaces when code comes first. */
export function indentAt(file: SourceFile, offset: number): string {
  const { start } = lineBounds(file, lineOf(file, offset));
  const lead = /^[ \t]*/.exec(file.text.slice(start, offset))![0];
  return lead.length ? lead : '    ';
}

/** Replaces text of the analysed file from `start` to `end` (a statement, a macro call) with lines of code. */
export function replaceEdit(file: SourceFile, start: number, end: number, lines: readonly string[]): TextEdit {
  const { start: ls } = lineBounds(file, lineOf(file, start));
  const lead = file.text.slice(ls, start);
  const indent = /^\s*$/.test(lead) ? lead : '    ';
  // a comment after what is replaced by several lines goes above them (not after the last)
  const lineEnd = lineBounds(file, lineOf(file, end)).end;
  const comment = lines.length > 1 ? /^\s*(;.*)$/.exec(file.text.slice(end, lineEnd)) : null;
  const body = indentLines(comment ? [comment[1], ...lines] : lines, indent, false);
  return { file: file.path, range: rangeOf(file, start, comment ? lineEnd : end), newText: body };
}

/** Lines of code after the line holding `offset` (at its indent). */
export function insertAfterLine(file: SourceFile, offset: number, lines: readonly string[]): TextEdit {
  const { end } = lineBounds(file, lineOf(file, offset));
  const pos = positionOf(file, end);
  return { file: file.path, range: { start: pos, end: pos }, newText: `\n${indentLines(lines, indentAt(file, offset))}` };
}

/** Lines of code before the statement at `offset` (which keeps its place on its line). */
export function insertBefore(file: SourceFile, offset: number, lines: readonly string[]): TextEdit {
  const indent = indentAt(file, offset);
  const pos = positionOf(file, offset);
  return { file: file.path, range: { start: pos, end: pos }, newText: `${indentLines(lines, indent, false)}\n${indent}` };
}

/** Blocks of lines appended at the end of the file, each in its section (one edit). */
export function appendSections(file: SourceFile, blocks: readonly { section: string; align?: string; lines: readonly string[] }[]): TextEdit {
  const text = file.text;
  const pos = positionOf(file, text.length);
  const sep = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  const body = blocks.map((b) => `\nsection ${b.section}\n${b.align ? `${b.align}\n` : ''}${b.lines.join('\n')}\n`).join('');
  return { file: file.path, range: { start: pos, end: pos }, newText: sep + body };
}

/** Data a fix needs, in a `section .data` block at the end of the file. */
export function appendData(ctx: Context, lines: readonly string[]): TextEdit {
  return appendSections(ctx.program.files[0], [{ section: '.data', align: 'align 4', lines }]);
}

/**
 * Whether a line of the root file's tree defines a label that starts a scope for local
 * `.labels`: a non-local label other than `..@`, with a colon or known to the assembly (a
 * lone word such as a macro call without arguments parses as a label without one).
 */
export function scopeLabel(node: LineNode, isSymbol: (name: string) => boolean): boolean {
  const l = node.label;
  return l !== null && !l.name.startsWith('.') && (l.colon || isSymbol(l.name));
}

/** The name the label of `nodes[k]` defines (`parent.local` for a local one). */
export function fullLabelName(nodes: readonly LineNode[], k: number, isSymbol: (name: string) => boolean): string {
  const name = nodes[k].label!.name;
  if (!name.startsWith('.') || name.startsWith('..')) return name;
  for (let i = k - 1; i >= 0; i--) if (scopeLabel(nodes[i], isSymbol)) return nodes[i].label!.name + name;
  return name;
}
