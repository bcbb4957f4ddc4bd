// Quick fixes as text edits. Privileged instructions are replaced by their paravirtual
// sequence where it is well defined (cli, sti, hlt, clts, wbinvd, invlpg, mov to CR3, mov
// from CR2), using xen.inc's names and macros when the file includes it and plain
// numbers otherwise; the request a hypercall needs goes in a `section .data` block added at
// the end of the file. Consecutive update_va_mapping calls with constant arguments become
// one multicall. The "ignore on this line" fix is in report.ts.

import { hypercallByName, xenConstant, xenField } from '../../../isa/src/index.js';
import { hex, nameAt, sitesOf, type Context } from './context.js';
import { EAX, EBX, ECX, EDX, ESI, GPR_NAMES } from './effects.js';
import { ARG_REGS, argumentsRead, type HypercallSite } from './hypercalls.js';
import type { Instr } from './program.js';
import { lineBounds, lineOf, positionOf, rangeOf } from './text.js';
import type { Fix, TextEdit } from './types.js';

/** How the fix text names Xen's constants, struct fields and hypercalls in this file. */
class Names {
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

  hypercall(name: string): string[] {
    if (this.ctx.program.xenInc && this.has(`__HYPERVISOR_${name}`)) return [`HYPERCALL ${name}`];
    return [`mov eax, ${hypercallByName(name)?.number ?? 0}`, 'int 0x82'];
  }

  hypercallNumber(name: string): string {
    return this.has(`__HYPERVISOR_${name}`) ? `__HYPERVISOR_${name}` : String(hypercallByName(name)?.number ?? 0);
  }
}

/** The address expression of the shared_info page the program maps (update_va_mapping of start_info.shared_info). */
function sharedInfo(ctx: Context): string | null {
  for (const { site, ebx } of sitesOf(ctx, 'update_va_mapping')) {
    if (ebx !== null && site.state?.regs[ECX] === 'H') return nameAt(ctx, ebx);
  }
  return null;
}

const push = (regs: number[]) => regs.map((r) => `push ${GPR_NAMES[r]}`);
const pop = (regs: number[]) => [...regs].reverse().map((r) => `pop ${GPR_NAMES[r]}`);

export function privilegedFix(ctx: Context, ins: Instr): Fix | null {
  if (!ins.direct || ins.user.file !== 0 || ins.insn.prefixes.bytes.length || ins.statement.kind !== 'instruction') return null;
  const n = new Names(ctx);
  const line = lineOf(ctx.program.files[0], ins.user.start) + 1;
  const label = (what: string) => uniqueLabel(ctx, `xenolab_${what}_${line}`);
  const mask = () => n.field([['shared_info', 'vcpu_info'], ['vcpu_info', 'evtchn_upcall_mask']]);
  const pending = () => n.field([['shared_info', 'vcpu_info'], ['vcpu_info', 'evtchn_upcall_pending']]);
  const ops = ins.insn.operands;
  switch (ins.mnemonic) {
    case 'cli': {
      const sh = sharedInfo(ctx);
      if (!sh) return null;
      return replace(ctx, ins, `Replace cli with masking events in vCPU 0's vcpu_info (${sh})`,
        [`mov byte [${sh} + ${mask()}], 1 ; cli: mask event delivery (vCPU 0)`]);
    }
    case 'sti': {
      const sh = sharedInfo(ctx);
      if (!sh) return null;
      const done = `..@${label('sti')}`;
      return replace(ctx, ins, `Replace sti with unmasking events in vCPU 0's vcpu_info (${sh}), then letting Xen deliver any pending one`, [
        `mov byte [${sh} + ${mask()}], 0 ; sti: unmask event delivery (vCPU 0)`,
        `cmp byte [${sh} + ${pending()}], 0 ; (changes the flags)`,
        `je ${done}`,
        ...push([EAX, EBX, ECX]),
        `mov ebx, ${n.constant('XENVER_version')} ; any hypercall delivers the pending event`,
        'mov ecx, 0',
        ...n.hypercall('xen_version'),
        ...pop([EAX, EBX, ECX]),
        `${done}:`,
      ]);
    }
    case 'hlt':
      return replace(ctx, ins, 'Replace hlt with sched_op(SCHEDOP_block)', [
        ...push([EAX, EBX, ECX]),
        `mov ebx, ${n.constant('SCHEDOP_block')} ; hlt: block until an event arrives`,
        'mov ecx, 0',
        ...n.hypercall('sched_op'),
        ...pop([EAX, EBX, ECX]),
      ]);
    case 'clts':
      return replace(ctx, ins, 'Replace clts with fpu_taskswitch(0)', [
        ...push([EAX, EBX]),
        'mov ebx, 0 ; clts: clear the virtual CR0.TS',
        ...n.hypercall('fpu_taskswitch'),
        ...pop([EAX, EBX]),
      ]);
    case 'wbinvd':
      return replace(ctx, ins, 'Remove wbinvd (a PV guest does not need it)', ['; wbinvd removed: Xen does not need it from a PV guest']);
    case 'invlpg': {
      const st = ins.statement;
      const mem = st.operands[0];
      if (!mem || mem.kind !== 'mem') return null;
      const text = ctx.program.files[mem.file]?.text.slice(mem.start, mem.end) ?? '';
      if (!text || /\besp\b/i.test(text)) return null;
      const op = label('invlpg');
      return mmuext(ctx, n, ins, 'Replace invlpg with mmuext_op(MMUEXT_INVLPG_LOCAL)', op, 'MMUEXT_INVLPG_LOCAL',
        [`lea eax, ${text.replace(/^\s*(byte|word|dword|qword)\s+/i, '')} ; invlpg: flush this address from the TLB`, `mov [${op} + ${n.field([['mmuext_op', 'arg1.linear_addr']])}], eax`]);
    }
    case 'mov': {
      const [dst, src] = ops;
      if (dst?.type === 'reg' && dst.reg.name === 'cr3' && src?.type === 'reg' && src.reg.cls === 'r32' && src.reg.name !== 'esp') {
        const op = label('cr3');
        return mmuext(ctx, n, ins, 'Replace mov cr3 with mmuext_op(MMUEXT_NEW_BASEPTR)', op, 'MMUEXT_NEW_BASEPTR', [
          ...(src.reg.name === 'eax' ? [] : [`mov eax, ${src.reg.name}`]),
          'shr eax, 12 ; mov cr3: the machine frame of the new page directory',
          `mov [${op} + ${n.field([['mmuext_op', 'arg1.mfn']])}], eax`,
        ]);
      }
      if (src?.type === 'reg' && src.reg.name === 'cr2' && dst?.type === 'reg' && dst.reg.cls === 'r32') {
        const sh = sharedInfo(ctx);
        if (!sh) return null;
        const cr2 = n.field([['shared_info', 'vcpu_info'], ['vcpu_info', 'arch'], ['arch_vcpu_info', 'cr2']]);
        return replace(ctx, ins, 'Read CR2 from vcpu_info.arch.cr2 (vCPU 0)', [`mov ${dst.reg.name}, [${sh} + ${cr2}] ; the fault address Xen saved (vCPU 0)`]);
      }
      return null;
    }
    default:
      return null;
  }
}

/** An mmuext_op with one request (in .data): registers saved around it. */
function mmuext(ctx: Context, n: Names, ins: Instr, title: string, op: string, command: string, fill: string[]): Fix {
  const saved = [EAX, EBX, ECX, EDX, ESI];
  const fix = replace(ctx, ins, title, [
    ...push(saved),
    ...fill,
    `mov ebx, ${op}`,
    'mov ecx, 1',
    'mov edx, 0',
    `mov esi, ${n.constant('DOMID_SELF')}`,
    ...n.hypercall('mmuext_op'),
    ...pop(saved),
  ]);
  fix.edits.push(appendData(ctx, [`${op}: dd ${n.constant(command)}, 0, 0 ; struct mmuext_op`]));
  return fix;
}

/**
 * update_va_mapping calls with constant arguments, one after the other with only their
 * argument set-up between them, as one multicall (when the registers they leave are not
 * read afterwards).
 */
export function mergeFix(ctx: Context, seq: HypercallSite[]): Fix | null {
  const { program, cfg } = ctx;
  const root = program.files[0];
  if (!root) return null;
  const args: number[][] = [];
  for (const s of seq) {
    if (s.hypercall?.name !== 'update_va_mapping' || s.via === 'page-jump' || !s.state) return null;
    const v = [EBX, ECX, EDX, ESI].map((r) => s.state!.regs[r]);
    if (v.some((x) => typeof x !== 'number')) return null;
    args.push(v as number[]);
  }
  const SETUP = (1 << EAX) | (1 << EBX) | (1 << ECX) | (1 << EDX) | (1 << ESI);
  const isSetup = (ins: Instr) => {
    const ops = ins.insn.operands;
    if (!(ins.mnemonic === 'mov' || ins.mnemonic === 'xor') || ops[0]?.type !== 'reg' || ops[0].reg.cls !== 'r32') return false;
    if (!(SETUP & (1 << ops[0].reg.num))) return false;
    if (ins.mnemonic === 'xor') return ops[1]?.type === 'reg' && ops[1].reg === ops[0].reg;
    return ops[1]?.type === 'imm';
  };
  const first = seq[0].instr;
  const last = seq[seq.length - 1].instr;
  let start = first;
  while (start - 1 >= 0 && cfg.blockOf[start - 1] === cfg.blockOf[first] && isSetup(program.instrs[start - 1])) start--;
  const sites = new Set(seq.map((s) => s.instr));
  for (let i = start; i <= last; i++) {
    const ins = program.instrs[i];
    if (ins.user.file !== 0 || ins.line.stack.length > 1 || ins.tainted) return null;
    if (!sites.has(i) && !isSetup(ins)) return null;
  }
  // whole lines: nothing else on the lines from the first to the last
  const firstLine = lineOf(root, program.instrs[start].user.start);
  const lastLine = lineOf(root, program.instrs[last].user.end);
  if (start > 0 && program.instrs[start - 1].user.file === 0 && lineOf(root, program.instrs[start - 1].user.start) >= firstLine) return null;
  if (last + 1 < program.instrs.length && program.instrs[last + 1].user.file === 0 && lineOf(root, program.instrs[last + 1].user.start) <= lastLine) return null;
  for (const node of program.result.trees.get(0) ?? []) {
    const l = lineOf(root, node.start);
    if (l < firstLine || l > lastLine) continue;
    if (node.preproc || (node.label && l > firstLine) || (node.statement && node.statement.kind !== 'instruction')) return null;
  }
  if (!deadAfter(ctx, last, SETUP)) return null;
  const n = new Names(ctx);
  const batch = uniqueLabel(ctx, `xenolab_batch_${firstLine + 1}`);
  const fix = replaceSpan(ctx, program.instrs[start].user.start, program.instrs[last].user.end,
    `Make these ${seq.length} update_va_mapping calls one multicall`, [
      `mov ebx, ${batch} ; ${seq.length} update_va_mapping calls in one multicall`,
      `mov ecx, ${seq.length}`,
      ...n.hypercall('multicall'),
    ]);
  const num = n.hypercallNumber('update_va_mapping');
  fix.edits.push(appendData(ctx, [
    `${batch}: ; struct multicall_entry[${seq.length}]: op, result, args[6]`,
    ...args.map((a) => `    dd ${num}, 0, ${a.map(hex).join(', ')}, 0, 0`),
  ]));
  return fix;
}

/** Whether the registers in `mask` are written before they are read after instruction `at` (straight-line). */
function deadAfter(ctx: Context, at: number, mask: number): boolean {
  const { program, cfg } = ctx;
  const following = (i: number): number | null => {
    const b = cfg.blocks[cfg.blockOf[i]];
    if (i < b.last) return i + 1;
    const fall = b.succ.find((e) => e.kind === 'fall');
    return fall ? cfg.blocks[fall.to].first : null;
  };
  let pending = mask;
  let i = following(at);
  for (let steps = 0; i !== null && pending && steps < 10_000; steps++) {
    const ins = program.instrs[i];
    const fx = ins.fx;
    const hyper = ins.hypercall;
    if ((fx.reads | (hyper ? hypercallReads(ctx, i) : 0)) & pending) return false;
    pending &= ~(fx.writes | (hyper ? 1 << EAX : 0));
    const f = ins.flow;
    if (f.kind === 'jump') return f.target === ins.address || pending === 0; // `jmp $` never goes on
    if (f.kind === 'stop') return true;
    if (f.kind === 'return' || f.kind === 'branch' || (f.kind === 'call' && !hyper)) return pending === 0;
    i = following(i);
  }
  return pending === 0;
}

/** The registers a hypercall reads: eax for int 0x82, and its arguments (all five when it is not known). */
function hypercallReads(ctx: Context, i: number): number {
  const site = ctx.siteAt.get(i);
  let mask = site?.via === 'int' ? 1 << EAX : 0;
  if (!site?.hypercall) return mask | ARG_REGS.reduce((m, r) => m | (1 << r), 0);
  const ebx = site.state?.regs[EBX];
  const n = argumentsRead(site.hypercall, typeof ebx === 'number' ? ebx : null);
  for (let k = 0; k < n; k++) mask |= 1 << ARG_REGS[k];
  return mask;
}

// ---------------------------------------------------------------------------------------
// Edits

function uniqueLabel(ctx: Context, base: string): string {
  let name = base;
  for (let k = 2; ctx.program.symbolByName.has(name) || ctx.program.files[0]?.text.includes(name); k++) name = `${base}_${k}`;
  return name;
}

/** Replaces an instruction written in the analysed file with lines of code. */
function replace(ctx: Context, ins: Instr, title: string, lines: string[]): Fix {
  return replaceSpan(ctx, ins.statement.start, ins.statement.end, title, lines);
}

function replaceSpan(ctx: Context, start: number, end: number, title: string, lines: string[]): Fix {
  const root = ctx.program.files[0];
  const line = lineOf(root, start);
  const { start: ls } = lineBounds(root, line);
  const lead = root.text.slice(ls, start);
  const indent = /^\s*$/.test(lead) ? lead : '    ';
  const body = lines.map((l, i) => (i === 0 ? l : l.endsWith(':') && !l.includes(' ') ? l : indent + l)).join('\n');
  const edit: TextEdit = { file: root.path, range: rangeOf(root, start, end), newText: body };
  return { title, edits: [edit] };
}

/** Data the replacement needs, in a `section .data` block at the end of the file. */
function appendData(ctx: Context, lines: string[]): TextEdit {
  const root = ctx.program.files[0];
  const text = root.text;
  const pos = positionOf(root, text.length);
  const sep = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  return { file: root.path, range: { start: pos, end: pos }, newText: `${sep}\nsection .data\nalign 4\n${lines.join('\n')}\n` };
}
