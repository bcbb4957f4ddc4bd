// Quick fixes for privileged instructions: each replaced by its paravirtual sequence where
// that is well defined (cli, sti, hlt, clts, wbinvd, invlpg, mov to CR3, mov from CR2),
// using xen.inc's names and macros when the file includes it and plain numbers otherwise;
// the request a hypercall needs goes in a `section .data` block added at the end of the file.

import { BUILTIN_PREFIX, XEN_INCLUDE_NAME, type Statement } from '../../../../asm/src/index.js';
import { XEN_EMULATE_PREFIX } from '../../../../isa/src/index.js';
import { isIntra } from '../cfg.js';
import { nameAt, sharedInfoMappings, type Context } from '../context.js';
import { EAX, EBX, ECX, EDX, ESI, GPR_NAMES } from '../effects.js';
import type { Instr } from '../program.js';
import { lineOf } from '../text.js';
import type { Fix } from '../types.js';
import { appendData, Names, replaceEdit, uniqueLabel } from './edit.js';
import { liveAfter } from './liveness.js';

/** The address expression of the shared_info page the program maps (update_va_mapping of start_info.shared_info). */
function sharedInfo(ctx: Context): string | null {
  const at = sharedInfoMappings(ctx)[0];
  return at === undefined ? null : nameAt(ctx, at);
}

/** Instructions whose replacement changes the flags (sti's compare, a hypercall; and mov to cr3's shift). */
const CHANGES_FLAGS = new Set(['sti', 'hlt', 'clts', 'invlpg']);

const push = (regs: number[]) => regs.map((r) => `push ${GPR_NAMES[r]}`);
const pop = (regs: number[]) => [...regs].reverse().map((r) => `pop ${GPR_NAMES[r]}`);

/** A fix rewrites only an instruction the user wrote as it is, in the open file, with no prefix. */
const rewritable = (ins: Instr): ins is Instr & { statement: Extract<Statement, { kind: 'instruction' }> } =>
  ins.direct && ins.user.file === 0 && !ins.insn.prefixes.bytes.length && ins.statement.kind === 'instruction';

export function privilegedFix(ctx: Context, ins: Instr): Fix | null {
  if (!rewritable(ins)) return null;
  // a sequence with a compare, a shift or a hypercall changes the flags: only where nothing reads them after
  const dst = ins.insn.operands[0];
  const changesFlags = CHANGES_FLAGS.has(ins.mnemonic) || (ins.mnemonic === 'mov' && dst?.type === 'reg' && dst.reg.name === 'cr3');
  if (changesFlags && liveAfter(ctx, ins.index, 0, true).flags) return null;
  const n = new Names(ctx);
  const line = lineOf(ctx.program.files[0], ins.user.start) + 1;
  const label = (what: string) => uniqueLabel(ctx, `xenolab_${what}_${line}`);
  const mask = () => n.field([['shared_info', 'vcpu_info'], ['vcpu_info', 'evtchn_upcall_mask']]);
  const pending = () => n.field([['shared_info', 'vcpu_info'], ['vcpu_info', 'evtchn_upcall_pending']]);
  const ops = ins.insn.operands;
  switch (ins.mnemonic) {
    case 'cli': {
      const sh = sharedInfo(ctx);
      // pushf / cli / ... / popf restores the interrupt flag: popf cannot restore the mask
      if (!sh || popfAfter(ctx, ins)) return null;
      return replace(ctx, ins, `Replace cli with masking events in vCPU 0's vcpu_info (${sh})`,
        [`mov byte [${sh} + ${mask()}], 1 ; cli: mask event delivery (vCPU 0)`]);
    }
    case 'sti': {
      // sti; hlt waits for an event with events enabled: SCHEDOP_block does both in one step
      // (unmasked apart, an event that comes between is delivered, and the block waits on)
      const next = ctx.program.instrs[ins.index + 1];
      const both = next?.mnemonic === 'hlt' ? stiHlt(ctx, n, ins, next) : null;
      if (both) return both;
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
    case 'hlt': {
      const before = ctx.program.instrs[ins.index - 1];
      const both = before?.mnemonic === 'sti' ? stiHlt(ctx, n, before, ins) : null;
      if (both) return both;
      return replace(ctx, ins, 'Replace hlt with sched_op(SCHEDOP_block)', [
        ...push([EAX, EBX, ECX]),
        `mov ebx, ${n.constant('SCHEDOP_block')} ; hlt: block until an event arrives`,
        'mov ecx, 0',
        ...n.hypercall('sched_op'),
        ...pop([EAX, EBX, ECX]),
      ]);
    }
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

/**
 * cpuid behind Xen's forced-emulation prefix, so that it traps and Xen answers for the
 * domain: xen.inc's XEN_CPUID when the built-in xen.inc is included (a copy on disk may
 * predate the macro), else the prefix's bytes.
 */
export function forcedCpuidFix(ctx: Context, ins: Instr): Fix | null {
  if (ins.mnemonic !== 'cpuid' || !rewritable(ins)) return null;
  const builtin = ctx.program.files.some((f) => f.path === `${BUILTIN_PREFIX}${XEN_INCLUDE_NAME}`);
  const prefix = `db ${XEN_EMULATE_PREFIX.slice(0, 2).map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}, '${String.fromCharCode(...XEN_EMULATE_PREFIX.slice(2))}'`;
  return replace(ctx, ins, "Put Xen's forced-emulation prefix before cpuid (XEN_CPUID)",
    builtin ? ['XEN_CPUID ; cpuid as Xen emulates it for this domain'] : [`${prefix} ; Xen's forced-emulation prefix (XEN_EMULATE_PREFIX)`, 'cpuid']);
}

/** A popf reached from instruction `ins` (by jumps, in its function): the end of an irqsave bracket. */
function popfAfter(ctx: Context, ins: Instr): boolean {
  const { cfg, program } = ctx;
  const seen = new Set<number>();
  const work = [cfg.blockOf[ins.index]];
  while (work.length && seen.size < 256) {
    const b = work.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    const blk = cfg.blocks[b];
    // (the cli's own block from the cli on; a loop back into it is seen again from its start)
    for (let i = b === cfg.blockOf[ins.index] && seen.size === 1 ? ins.index : blk.first; i <= blk.last; i++) if (POPF.has(program.instrs[i].mnemonic)) return true;
    for (const e of blk.succ) if (isIntra(e)) work.push(e.to);
  }
  return false;
}

const POPF = new Set(['popf', 'popfd', 'popfw']);

/** `sti` then `hlt`: one sched_op(SCHEDOP_block), which unmasks events and blocks unless one is pending. */
function stiHlt(ctx: Context, n: Names, sti: Instr, hlt: Instr): Fix | null {
  if (!rewritable(sti) || !rewritable(hlt) || ctx.cfg.blockOf[sti.index] !== ctx.cfg.blockOf[hlt.index]) return null;
  const root = ctx.program.files[0];
  // nothing between them but blanks (a label or a comment there would be lost)
  if (!root || !/^\s*$/.test(root.text.slice(sti.statement.end, hlt.statement.start))) return null;
  if (liveAfter(ctx, hlt.index, 0, true).flags) return null;
  return {
    title: 'Replace sti; hlt with sched_op(SCHEDOP_block) (unmasks events and waits, in one step)',
    edits: [replaceEdit(root, sti.statement.start, hlt.statement.end, [
      ...push([EAX, EBX, ECX]),
      `mov ebx, ${n.constant('SCHEDOP_block')} ; sti; hlt: unmask events and block until one is pending`,
      'mov ecx, 0',
      ...n.hypercall('sched_op'),
      ...pop([EAX, EBX, ECX]),
    ])],
  };
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

/** Replaces an instruction written in the analysed file with lines of code. */
function replace(ctx: Context, ins: Instr, title: string, lines: string[]): Fix {
  return { title, edits: [replaceEdit(ctx.program.files[0], ins.statement.start, ins.statement.end, lines)] };
}
