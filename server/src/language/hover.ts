// Hover text (Markdown) for what is under the cursor: an instruction (its documentation,
// forms and what it does in ring 1, from isa/'s table), a register, a hypercall constant
// (its signature), a struct field (offset and size), a label or constant (its value),
// a macro (its definition line), a preprocessor directive or function (what it does).

import { BUILTIN_PREFIX, PREPROCESSOR_DIRECTIVES, PREPROCESSOR_FUNCTIONS } from '../../../asm/src/index.js';
import {
  formsOf, hypercallByName, hypercallByNumber, MNEMONICS, type Hypercall, registerByName, unsupportedInstruction, XEN_CONSTANT_GROUPS, xenField,
} from '../../../isa/src/index.js';
import type { Definition, SymbolIndex } from './symbols.js';

const REGISTER_ROLES: Readonly<Record<string, string>> = {
  eax: 'accumulator; the hypercall number at `int 0x82`, and its result (a negative errno on failure)',
  ebx: 'base; the first hypercall argument',
  ecx: 'count (rep, loop, shifts); the second hypercall argument',
  edx: 'data (mul/div high half, in/out port); the third hypercall argument',
  esi: 'source index (string instructions); the fourth hypercall argument; start_info at a PV guest\'s entry',
  edi: 'destination index (string instructions); the fifth hypercall argument',
  ebp: 'frame pointer',
  esp: 'stack pointer (the kernel stack Xen switches to is set with stack_switch)',
  cr3: 'page-directory base: privileged; a PV guest switches it with mmuext_op MMUEXT_NEW_BASEPTR',
  cr2: 'page-fault address: a PV guest reads it from vcpu_info.arch.cr2',
  cr0: 'control register 0: privileged (CR0.TS: fpu_taskswitch)',
  eflags: 'flags; IF is virtual under Xen (evtchn_upcall_mask in vcpu_info)',
};

/** An instruction's forms as written (`mov r/m32, r32`), each once, in the table's order. */
export function operandForms(mnemonic: string): string[] {
  return [...new Set(formsOf(mnemonic).filter((f) => !f.decodeOnly).map((f) => `${mnemonic} ${f.operands.join(', ')}`.trim()))];
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

export function hoverFor(word: string, index: SymbolIndex | null): string | null {
  const lower = word.toLowerCase();
  if (lower.startsWith('%')) {
    const known = PREPROCESSOR_DIRECTIVES.find(([d]) => d === lower) ?? PREPROCESSOR_FUNCTIONS.find(([f]) => f === lower);
    return known ? `**${known[0]}** — ${known[1]}` : null;
  }
  const info = MNEMONICS[lower];
  if (info !== undefined) {
    const forms = operandForms(lower).slice(0, 8);
    const cls = info.cls === 'privileged'
      ? `**Privileged**: in a PV guest kernel (ring 1) it traps to Xen: ${info.xen ?? 'the kernel gets #GP(0).'}`
      : info.cls === 'sensitive' ? '**Sensitive**: runs in ring 1 but behaves differently or leaks host state.' : '';
    return [
      `**${lower}** — ${info.doc}`,
      cls,
      info.pv ? `Paravirtual replacement: ${info.pv}` : '',
      forms.length ? '```\n' + forms.join('\n') + '\n```' : '',
    ].filter(Boolean).join('\n\n');
  }
  const reg = registerByName(lower);
  if (reg !== undefined || REGISTER_ROLES[lower]) {
    const role = REGISTER_ROLES[lower] ?? REGISTER_ROLES[`e${lower.replace(/[lhx]$/, 'x')}`] ?? '';
    return `**${lower}** — ${reg ? `${reg.bits}-bit ${reg.cls} register` : 'register'}${role ? `: ${role}` : ''}`;
  }
  const hc = /^__HYPERVISOR_(\w+)$/.exec(word);
  if (hc) {
    const value = index?.definitions.get(word)?.value;
    const h = value !== undefined ? hypercallByNumber(value) : undefined;
    if (h) return hypercallHover(h);
  }
  const d = index?.definitions.get(word);
  if (d) return describe(d);
  const missing = unsupportedInstruction(word);
  if (missing) return missing + '.';
  // A Xen constant (xen.inc has them all, under Xen's names).
  for (const g of XEN_CONSTANT_GROUPS) {
    const c = g.constants.find((x) => x.name === word);
    if (c) return `**${c.name}** = ${c.value} (${hex(c.value)})${c.doc ? `\n\n${c.doc}` : ''}`;
  }
  return null;
}

function hypercallHover(h: Hypercall): string {
  return `**hypercall ${h.number}: ${h.name}**(${h.args.map((a) => `${a.cType} ${a.name}`).join(', ')})\n\n${h.doc}\n\nArguments in ebx, ecx, edx, esi, edi; result in eax.`;
}

/** xen.inc's hypercall macros, which take a hypercall's name (`HYPERCALL sched_op`). */
export const HYPERCALL_MACRO_BEFORE = /(?:^|\s|:)HYPERCALL(?:_PAGE_CALL|_PAGE_JMP)?\s+$/i;

/** The hover of the hypercall a word names as a hypercall macro's argument (`lineBefore` is the line up to the word). */
export function hypercallArgumentHover(lineBefore: string, word: string): string | null {
  const h = HYPERCALL_MACRO_BEFORE.test(lineBefore) ? hypercallByName(word) : undefined;
  return h ? hypercallHover(h) : null;
}

function describe(d: Definition): string {
  const where = d.file.startsWith(BUILTIN_PREFIX) ? 'built-in xen.inc' : d.file.slice(d.file.lastIndexOf('/') + 1);
  const field = structField(d);
  if (field) {
    const x = xenField(field.struct, field.member);
    const size = x ? `, ${x.size} byte${x.size === 1 ? '' : 's'} (\`${x.cType}\`)` : '';
    return `**${d.name}** — field of struct ${field.struct} at offset ${d.value ?? x?.offset ?? '?'}${size} (${where}:${d.range.start.line + 1})${x?.doc ? `\n\n${x.doc}` : ''}`;
  }
  switch (d.kind) {
    case 'label':
    case 'local':
      return `**${d.name}** — label${d.value !== undefined ? ` at ${hex(d.value)}` : ''} (${where}:${d.range.start.line + 1})`;
    case 'constant':
      return `**${d.name}** — constant${d.value !== undefined ? ` = ${d.value} (${hex(d.value)})` : ''} (${where}:${d.range.start.line + 1})\n\n\`${d.text}\``;
    case 'macro':
    case 'define':
      return `**${d.name}** — ${d.kind} (${where}:${d.range.start.line + 1})\n\n\`\`\`nasm\n${d.text}\n\`\`\``;
  }
}

/**
 * The struct and member a definition names: a field of a `struc` (a local under it), or
 * one of xen.inc's names for members of nested structs (`start_info.console.domU.mfn`).
 */
function structField(d: Definition): { struct: string; member: string } | null {
  if (d.kind === 'local' && d.parent !== undefined) return d.field ? { struct: d.parent, member: d.name.slice(d.parent.length + 1) } : null;
  const dot = d.name.indexOf('.');
  if (d.kind !== 'constant' || dot <= 0 || !d.file.startsWith(BUILTIN_PREFIX)) return null;
  const struct = d.name.slice(0, dot), member = d.name.slice(dot + 1);
  return xenField(struct, member) ? { struct, member } : null;
}
