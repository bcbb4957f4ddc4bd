// privileged-instruction and sensitive-instruction: what a ring-1 kernel may not run, and
// what it runs to a different effect than on bare hardware.

import { MNEMONICS, xenConstant, xenField, xenStruct } from '../../../../isa/src/index.js';
import { isIntra } from '../cfg.js';
import { ring3Blocks, sharedInfoMappings, sitesOf, sourceText, type Context } from '../context.js';
import { handlerEntries } from '../handlers.js';
import { forcedCpuidFix, privilegedFix } from '../fixes/privileged.js';
import type { Instr } from '../program.js';
import { wordAt } from '../memory.js';
import { addressValue } from '../values.js';

const IRET = new Set(['iret', 'iretd', 'iretw']);
const PORT_IO = new Set(['in', 'out', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'outsd']);
const IOBITMAP_NR_PORTS = xenField('physdev_set_iobitmap', 'nr_ports')?.offset ?? 4;
const FLAGS_IO = new Set(['pushf', 'pushfd', 'pushfw', 'popf', 'popfd', 'popfw']);

export function checkInstructions(ctx: Context): void {
  const { program } = ctx;
  let unprivileged: ((ins: Instr) => boolean) | null = null;
  let masked: Map<number, string> | null = null;
  for (const ins of program.instrs) {
    const cls = ins.insn.form.cls;
    if (cls === 'privileged') {
      if (PORT_IO.has(ins.mnemonic) && !(unprivileged ??= unprivilegedIo(ctx))(ins)) continue;
      const fix = privilegedFix(ctx, ins);
      ctx.report.add({
        code: 'privileged-instruction', at: ins,
        message: `\`${sourceText(ctx, ins)}\` is privileged: a paravirtualized kernel runs in ring 1, where it traps to Xen: ${fate(ins)} ${replacement(ins)}`,
        fixes: fix ? [fix] : [],
      });
    } else if (cls === 'sensitive' && !ins.emulated) {
      if (IRET.has(ins.mnemonic)) {
        masked ??= maskedReach(ctx);
        const why = masked.get(ins.index);
        if (why === undefined) continue;
        ctx.report.add({
          code: 'sensitive-instruction', at: ins,
          message: `\`${ins.mnemonic}\` returns from ${why}, which Xen enters with events masked; in ring 1 iret cannot restore the virtual interrupt flag, so events stay masked. Return with the iret hypercall instead (HYPERCALL_PAGE_JMP iret: jmp hypercall_page + 23*32).`,
          related: [],
        });
        continue;
      }
      // ring-3 code's flags instructions behave as in any user program (IOPL 0, IF not its own)
      if (FLAGS_IO.has(ins.mnemonic) && ring3Blocks(ctx)[ctx.cfg.blockOf[ins.index]]) continue;
      const info = MNEMONICS[ins.mnemonic];
      const fix = forcedCpuidFix(ctx, ins);
      ctx.report.add({
        code: 'sensitive-instruction', at: ins,
        message: `\`${sourceText(ctx, ins)}\` does not trap in ring 1 but behaves differently there: ${info?.doc ?? ''}${info?.pv ? ` Instead: ${info.pv}` : ''}`,
        fixes: fix ? [fix] : [],
      });
    }
  }
}

/** What Xen does with a privileged instruction from ring 1 (emulate, ignore, or #GP to the kernel). */
function fate(ins: Instr): string {
  if (ins.mnemonic !== 'mov') return MNEMONICS[ins.mnemonic]?.xen ?? 'the kernel gets #GP(0).';
  const ops = ins.insn.operands;
  const special = ops.find((o) => o.type === 'reg' && (o.reg.cls === 'creg' || o.reg.cls === 'dreg'));
  const name = special && special.type === 'reg' ? special.reg.name : '';
  const writes = ops[0]?.type === 'reg' && ops[0].reg.name === name;
  if (name.startsWith('dr')) return 'Xen emulates it, checking the value, at the cost of a trap each time.';
  if (!writes) return `Xen emulates it with the virtual ${name.toUpperCase()}, at the cost of a trap each time.`;
  if (name === 'cr3') return 'Xen emulates it, validating the new directory as MMUEXT_NEW_BASEPTR does (the kernel gets #GP(0) if it refuses), at the cost of a trap each time.';
  if (name === 'cr0') return 'Xen emulates it only when just TS changes; any other change gets the kernel #GP(0).';
  if (name === 'cr4') return 'Xen emulates it, keeping the bits it owns, at the cost of a trap each time.';
  return 'the kernel gets #GP(0).';
}

/** The paravirtual way to do what a privileged instruction does. */
function replacement(ins: Instr): string {
  if (ins.mnemonic === 'mov') {
    const ops = ins.insn.operands;
    const cr = ops.find((o) => o.type === 'reg' && (o.reg.cls === 'creg' || o.reg.cls === 'dreg'));
    const name = cr && cr.type === 'reg' ? cr.reg.name : '';
    const writes = ops[0]?.type === 'reg' && ops[0].reg.name === name;
    if (name === 'cr3' && writes) return 'Switch page tables with mmuext_op MMUEXT_NEW_BASEPTR (Xen validates and pins the new directory).';
    if (name === 'cr2') return 'The fault address is in vcpu_info.arch.cr2 of the shared_info page.';
    if (name === 'cr0') return writes ? 'Only CR0.TS is the guest\'s: set or clear it with fpu_taskswitch.' : 'Xen emulates CR0 reads at the cost of a trap; keep track of CR0.TS yourself (fpu_taskswitch).';
    if (name === 'cr3') return 'Xen emulates CR3 reads at the cost of a trap; keep the machine address of the directory you loaded with MMUEXT_NEW_BASEPTR.';
    if (name.startsWith('dr')) return writes ? 'Set debug registers with the set_debugreg hypercall.' : 'Read debug registers with the get_debugreg hypercall.';
    return 'Control registers belong to Xen.';
  }
  const pv = MNEMONICS[ins.mnemonic]?.pv;
  return pv ? `Instead: ${pv}` : '';
}

/**
 * The port I/O instructions that may run before the kernel has the I/O privilege: every
 * one when no physdev_op asks for it (PHYSDEVOP_set_iopl with an IOPL of 1 or more, ring
 * 1's, or PHYSDEVOP_set_iobitmap with a bitmap of some ports; the ports it allows are not
 * told apart); else those reached from the entry point along a way that passes no such call (into the
 * functions it calls, and on past a call only when that function may return without
 * making one). Code reached only otherwise (handlers) is taken to run after it.
 */
function unprivilegedIo(ctx: Context): (ins: Instr) => boolean {
  const { program, cfg } = ctx;
  const setIopl = xenConstant('PHYSDEVOP_set_iopl')?.value;
  const setIobitmap = xenConstant('PHYSDEVOP_set_iobitmap')?.value;
  const grants = new Set<number>();
  for (const { site, ebx, ecx } of sitesOf(ctx, 'physdev_op')) {
    if ((ebx !== setIopl && ebx !== setIobitmap) || !site.state) continue;
    // physdev_set_iopl { uint32_t iopl } asks for IOPL >= 1; physdev_set_iobitmap's bitmap
    // (a clear bit allows its port) covers nr_ports > 0. An unknown request is taken to grant.
    const at = ecx === null ? null : ebx === setIopl ? ecx : ecx + IOBITMAP_NR_PORTS;
    const word = at === null ? null : wordAt(ctx, site.instr, at);
    if (!word || word.values.every((v) => v >= 1)) grants.add(site.instr);
  }
  if (grants.size === 0) return () => true;
  if (program.entry < 0) return () => false;

  const granting = new Set([...grants].map((i) => cfg.blockOf[i]));
  /** Blocks entered from `from` before any grant; `into`: also the functions called. */
  const walk = (from: number, into: boolean, mayReturn: readonly boolean[]) => {
    const seen = new Uint8Array(cfg.blocks.length);
    const stack = [from];
    while (stack.length) {
      const b = stack.pop()!;
      if (seen[b]) continue;
      seen[b] = 1;
      if (granting.has(b)) continue;
      for (const e of cfg.blocks[b].succ) {
        if (e.kind === 'call') {
          if (into && e.callee >= 0) stack.push(e.to);
        } else if (e.kind !== 'return' || e.callee < 0 || mayReturn[e.callee]) stack.push(e.to);
      }
    }
    return seen;
  };
  // per function: it may return without a grant (fewer as the ones it calls are settled)
  const mayReturn = cfg.functions.map(() => true);
  for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
    changed = false;
    for (const fn of cfg.functions) {
      if (!mayReturn[fn.id]) continue;
      const seen = walk(fn.entry, false, mayReturn);
      if (!fn.returns.some((r) => seen[r] && !granting.has(r))) {
        mayReturn[fn.id] = false;
        changed = true;
      }
    }
  }
  const before = walk(cfg.blockOf[program.entry], true, mayReturn);
  return (ins) => {
    if (!before[cfg.blockOf[ins.index]]) return false;
    const blk = cfg.blocks[cfg.blockOf[ins.index]];
    for (let i = blk.first; i < ins.index; i++) if (grants.has(i)) return false;
    return true;
  };
}

/**
 * iret instructions reached from an entry point Xen enters with events masked: the event
 * callback (set_callbacks, callback_op with CALLBACKTYPE_event or CALLBACKF_mask_events)
 * and trap handlers whose trap_info flags ask for it (a static trap table given to
 * set_trap_table).
 */
function maskedReach(ctx: Context): Map<number, string> {
  const { program, cfg } = ctx;
  const entries = handlerEntries(ctx).filter((h) => h.masked);
  // walked while events are still masked: code that unmasks them itself before its iret
  // (Mini-OS's hypervisor_callback) returns correctly
  const out = new Map<number, string>();
  const shared = new Set(sharedInfoMappings(ctx).map((a) => (a & ~0xfff) >>> 0));
  // vcpu_info moved out of shared_info (VCPUOP_register_vcpu_info): to a page the analysis does not know
  const registerVcpuInfo = xenConstant('VCPUOP_register_vcpu_info')?.value;
  const moved = sitesOf(ctx, 'vcpu_op').some((x) => x.site.state && x.ebx === registerVcpuInfo);
  const where: MaskPlaces = { shared, anyPage: moved || shared.size === 0 };
  // per function: it unmasks events on every way to its return (a helper such as pv_sti)
  const unmasking = new Map<number, boolean>();
  const unmasks = (fn: number): boolean => {
    const known = unmasking.get(fn);
    if (known !== undefined) return known;
    unmasking.set(fn, false); // recursion: not known to unmask
    const f = cfg.functions[fn];
    const returns = new Set(f.returns);
    let some = false;
    walkMasked(f.entry, (b) => {
      if (returns.has(b)) some = true;
    });
    unmasking.set(fn, !some && f.returns.length > 0);
    return unmasking.get(fn)!;
  };
  /** Calls `masked(b)` for each block reached from `from` with events still masked at its end. */
  const walkMasked = (from: number, masked: (b: number) => void) => {
    const seen = new Set<number>();
    const stack = [from];
    while (stack.length) {
      const b = stack.pop()!;
      if (seen.has(b)) continue;
      seen.add(b);
      const blk = cfg.blocks[b];
      let still = true;
      for (let i = blk.first; i <= blk.last; i++) {
        const set = maskStore(ctx, program.instrs[i], where);
        if (set !== null) still = set;
      }
      if (!still || blk.succ.some((e) => e.kind === 'call' && e.callee >= 0 && unmasks(e.callee))) continue;
      masked(b);
      for (const e of blk.succ) if (isIntra(e)) stack.push(e.to);
    }
  };
  for (const { instr, name } of entries) {
    walkMasked(cfg.blockOf[instr], (b) => {
      const last = program.instrs[cfg.blocks[b].last];
      if (IRET.has(last.mnemonic) && !out.has(last.index)) out.set(last.index, name);
    });
  }
  return out;
}

const MASK_OFFSET = xenField('vcpu_info', 'evtchn_upcall_mask')?.offset ?? 1;
const VCPU_INFO_SIZE = xenStruct('vcpu_info')?.size ?? 64;
const VCPU_INFO_AT = xenField('shared_info', 'vcpu_info')?.offset ?? 0;
const MAX_VCPUS = xenConstant('XEN_LEGACY_MAX_VCPUS')?.value ?? 32;

/** Where vcpu_info's mask may be: the pages shared_info is mapped at, or any page (none found, or vcpu_info moved). */
interface MaskPlaces {
  shared: ReadonlySet<number>;
  anyPage: boolean;
}

/**
 * A byte store of a constant (or a register holding one) to some vCPU's
 * evtchn_upcall_mask: true when it masks events, false when it unmasks them, null when the
 * instruction is no such store. The field is known by its offset in its page: at an
 * address in a page shared_info is mapped at (any page when the analysis found none, or
 * when vcpu_info was moved with VCPUOP_register_vcpu_info), there plus a register (the
 * vCPU's vcpu_info: [shared + eax + mask]), or at that offset from a register.
 */
function maskStore(ctx: Context, ins: Instr, where: MaskPlaces): boolean | null {
  const [dst, src] = ins.insn.operands;
  if (ins.mnemonic !== 'mov' || dst?.type !== 'mem' || dst.bits !== 8) return null;
  const state = ctx.df.before(ins.index);
  const regs = state?.regs;
  let value: number | null = null;
  if (src?.type === 'imm') value = src.value & 0xff;
  else if (src?.type === 'reg' && src.reg.cls === 'r8' && regs) {
    const v = regs[src.reg.num & 3];
    if (typeof v === 'number') value = src.reg.num < 4 ? v & 0xff : (v >>> 8) & 0xff;
  }
  if (value === null) return null;
  const inPlace = (a: number) => where.anyPage || where.shared.has((a & ~0xfff) >>> 0);
  const at = regs ? addressValue(dst, regs) : null;
  let offset: number;
  if (at !== null) {
    if (!inPlace(at)) return null;
    offset = at & 0xfff;
  } else if ((dst.base || dst.index) && dst.disp >>> 0 >= 0x1000 && inPlace(dst.disp >>> 0)) {
    // an address in a shared_info page plus a register: the vCPU's vcpu_info in it
    offset = dst.disp & 0xfff;
  } else {
    if (dst.index || !dst.base) return null;
    offset = dst.disp | 0;
  }
  const k = (offset - VCPU_INFO_AT - MASK_OFFSET) / VCPU_INFO_SIZE;
  if (!Number.isInteger(k) || k < 0 || k >= MAX_VCPUS) return null;
  return value !== 0;
}

