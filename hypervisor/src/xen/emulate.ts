// The few privileged instructions Xen emulates for a PV kernel when they fault in ring 1
// (xen/arch/x86/pv/emul-priv-op.c), with Xen's rules; every other privileged
// instruction stays a #GP(0) for the guest's handler:
//   mov from cr0/cr2/cr3/cr4  the virtual values (CR0.TS is fpu_taskswitch's; CR3 is the
//                             machine address of the current page directory)
//   mov to cr0                only TS may change (the rest must stay as it is)
//   mov to cr3                validated like MMUEXT_NEW_BASEPTR
//   clts                      clears the virtual TS
//   wbinvd, invd              nothing to do for a guest without cache control: skipped
//   cli, sti                  ignored when the virtual IOPL (PHYSDEVOP_set_iopl) allows
//                             them; a kernel masks events through vcpu_info instead
//   in, out                   when the virtual IOPL or the guest's I/O bitmap allows the
//                             port (ring 1 or 3); no domain here may touch real ports, so
//                             reads give all ones and writes go nowhere
// String I/O (ins/outs), MSRs, hlt and the descriptor-table loads are not emulated.
//
// A #UD at Xen's forced-emulation prefix (ud2; "xen") before cpuid, from ring 1 or 3, is
// that cpuid, emulated (xen/arch/x86/pv/emul-inv-op.c): how a PV kernel asks for Xen's
// CPUID view (XEN_CPUID). Before anything else, the #UD is the guest's.
//
// With VMASST_TYPE_writable_pagetables enabled, a ring-1 store that faults on a
// read-only page-table entry page is emulated too (xen/arch/x86/pv/ro-page-fault.c):
// a 32-bit aligned mov into an L1 page table in use, validated like an mmu_update.
// Page directories are never written this way.

import { decode, MAX_INSTRUCTION_LENGTH, XEN_EMULATE_PREFIX, type DecodedInstruction } from '../../../isa/src/index.js';
import { k, PAGE_PRESENT } from './abi.js';
import { PGT_L1 } from './frames.js';
import { CR0_PE, CR0_PG, CR0_TS, CR0_WP, EAX, ECX, EDI, EDX, ESI } from '../cpu.js';
import { CpuFault } from '../arch.js';
import type { Domain } from './domain.js';
import type { MemoryManager } from './mm.js';

/** The CR0 a PV kernel sees: protected mode, paging, write protection, and its own TS. */
function virtualCr0(d: Domain): number {
  return (CR0_PE | CR0_WP | CR0_PG | (d.active.fpuTaskSwitched ? CR0_TS : 0) | 0x10) >>> 0; // ET is always set
}

/** The instruction at the vCPU's EIP, decoded, or null. */
function instructionAt(d: Domain): DecodedInstruction | null {
  const bytes = d.read(d.cpu.eip, MAX_INSTRUCTION_LENGTH) ?? d.read(d.cpu.eip, 1);
  if (!bytes) return null;
  const r = decode(bytes, 0, d.cpu.eip);
  return r.ok ? r.insn : null;
}

const WRITABLE_PAGETABLES = 1 << k('VMASST_TYPE_writable_pagetables');
const PFEC_PRESENT_WRITE = 3;

/**
 * A #PF from a store into a page-table page, emulated when the guest enabled the
 * writable-page-table assist; true when done (the entry written, EIP past the store).
 */
export function emulatePageTableWrite(d: Domain, mm: MemoryManager, errorCode: number): boolean {
  const cpu = d.cpu;
  if (!(d.vmAssist & WRITABLE_PAGETABLES) || cpu.cpl !== 1 || errorCode !== PFEC_PRESENT_WRITE || d.active.baseMfn < 0) return false;
  const va = cpu.cr2 >>> 0;
  if (va & 3) return false;
  // The frame written, through the guest's own tables.
  const pde = mm.mem.read32(d.active.baseMfn * 4096 + (va >>> 22) * 4);
  if (!(pde & PAGE_PRESENT)) return false;
  const pte = mm.mem.read32((pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4);
  if (!(pte & PAGE_PRESENT)) return false;
  const frame = pte >>> 12;
  const f = mm.frames;
  if (!(frame < f.count) || f.owner[frame] !== d.domain || f.type[frame] !== PGT_L1 || f.typeRefs[frame] === 0) return false;
  const i = instructionAt(d);
  if (!i || i.form.mnemonic !== 'mov' || i.operands.length !== 2) return false;
  const [dst, src] = i.operands;
  if (dst.type !== 'mem' || dst.bits !== 32) return false;
  const value = src.type === 'reg' && src.reg.cls === 'r32' ? cpu.regs[src.reg.num] >>> 0 : src.type === 'imm' ? src.extended >>> 0 : null;
  if (value === null) return false;
  if (mm.modL1Entry(frame * 4096 + (va & 0xfff), value, d.domain, false) !== 0) return false;
  d.counters.ptUpdates++;
  cpu.eip = (cpu.eip + i.length) >>> 0;
  return true;
}

/** Whether the guest allows itself `bytes` of I/O at `port` (Xen's guest_io_okay). */
function guestIoOkay(d: Domain, port: number, bytes: number): boolean {
  // The kernel counts as ring 1, user code as ring 3.
  if (d.cpu.cpl <= d.active.iopl) return true;
  const bitmap = d.active.ioBitmap;
  if (bitmap === null || port + bytes > bitmap.ports) return false;
  // Two bytes of the bitmap cover the access; an unreadable byte refuses its ports.
  const lo = d.read((bitmap.address + (port >>> 3)) >>> 0, 1)?.[0] ?? 0xff;
  const hi = d.read((bitmap.address + (port >>> 3) + 1) >>> 0, 1)?.[0] ?? 0xff;
  return ((lo | (hi << 8)) & (((1 << bytes) - 1) << (port & 7))) === 0;
}

/** in/out the guest allowed itself: a port no domain here owns (reads all ones, writes dropped). */
function emulateIo(d: Domain, i: DecodedInstruction): boolean {
  const ops = i.operands;
  const isIn = i.form.mnemonic === 'in';
  const acc = ops[isIn ? 0 : 1], portOp = ops[isIn ? 1 : 0];
  if (acc.type !== 'reg') return false;
  const bytes = acc.reg.cls === 'r8' ? 1 : acc.reg.cls === 'r16' ? 2 : 4;
  const port = portOp.type === 'imm' ? portOp.value : d.cpu.regs[EDX] & 0xffff;
  if (!guestIoOkay(d, port, bytes)) return false;
  if (isIn) {
    const r = d.cpu.regs;
    r[EAX] = bytes === 4 ? -1 : r[EAX] | ((1 << (bytes * 8)) - 1);
  }
  return true;
}

const STRING_IO = new Map([['insb', 1], ['insw', 2], ['insd', 4], ['outsb', 1], ['outsw', 2], ['outsd', 4]]);
/** Elements a `rep ins/outs` moves per emulation: the instruction runs again for the rest, as Xen's emulator goes on. */
const STRING_IO_BATCH = 4096;
const EFLAGS_DF = 0x400;

/**
 * ins/outs the guest allowed itself, with rep: ins stores all ones at [EDI], outs reads
 * [ESI] and drops it, each through the guest's own page tables with its privilege.
 * Returns 'done' (EIP past it), 'again' (EIP left on it: more elements remain), or false
 * when Xen would refuse (I/O not allowed, or an element faults: the #GP then stands).
 */
function emulateStringIo(d: Domain, i: DecodedInstruction, bytes: number): 'done' | 'again' | false {
  const cpu = d.cpu;
  const r = cpu.regs;
  const port = r[EDX] & 0xffff;
  if (!guestIoOkay(d, port, bytes)) return false;
  const isIn = i.form.mnemonic.startsWith('ins');
  const wide = i.adsize === 32;
  const rep = i.prefixes.rep !== null;
  const count = rep ? (wide ? r[ECX] >>> 0 : r[ECX] & 0xffff) : 1;
  const n = Math.min(count, STRING_IO_BATCH);
  const step = cpu.getFlags() & EFLAGS_DF ? -bytes : bytes;
  const index = isIn ? EDI : ESI;
  const addr = (k: number) => (wide ? r[index] + k * step : (r[index] + k * step) & 0xffff) >>> 0;
  // Every element first, so that a fault leaves the registers as they were.
  try {
    for (let k = 0; k < n; k++) for (let b = 0; b < bytes; b++) cpu.translate((addr(k) + b) >>> 0, isIn);
  } catch (e) {
    if (e instanceof CpuFault) return false;
    throw e;
  }
  for (let k = 0; k < n; k++) if (isIn) for (let b = 0; b < bytes; b++) cpu.write8((addr(k) + b) >>> 0, 0xff);
  r[index] = wide ? r[index] + n * step : (r[index] & ~0xffff) | ((r[index] + n * step) & 0xffff);
  if (rep) r[ECX] = wide ? count - n : (r[ECX] & ~0xffff) | (count - n);
  return count - n > 0 ? 'again' : 'done';
}

/** Emulates the instruction at EIP if Xen would; true when done (EIP moved past it, or left on a rep to go on). */
export function emulatePrivileged(d: Domain, mm: MemoryManager): boolean {
  const cpu = d.cpu;
  if (cpu.cpl !== 1 && cpu.cpl !== 3) return false;
  const i = instructionAt(d);
  if (!i) return false;
  const m = i.form.mnemonic;
  if (m === 'in' || m === 'out') {
    if (!emulateIo(d, i)) return false;
    cpu.eip = (cpu.eip + i.length) >>> 0;
    return true;
  }
  const size = STRING_IO.get(m);
  if (size !== undefined) {
    const done = emulateStringIo(d, i, size);
    if (done === 'done') cpu.eip = (cpu.eip + i.length) >>> 0;
    return done !== false;
  }
  if (cpu.cpl !== 1) return false;
  const ops = i.operands;
  const reg = (k: number) => (ops[k].type === 'reg' ? ops[k].reg : null);
  if (m === 'cli' || m === 'sti') {
    if (d.active.iopl < 1) return false; // ignored, not obeyed: events stay as vcpu_info says
  } else if (m === 'clts') d.active.fpuTaskSwitched = false;
  else if (m === 'wbinvd' || m === 'invd') {
    // nothing to flush
  } else if (m === 'mov' && reg(0)?.cls === 'r32' && reg(1)?.cls === 'creg') {
    const n = reg(1)!.num;
    const v = n === 0 ? virtualCr0(d) : n === 2 ? cpu.cr2 : n === 3 ? d.active.baseMfn * 4096 : 0;
    cpu.regs[reg(0)!.num] = v;
  } else if (m === 'mov' && reg(0)?.cls === 'creg' && reg(1)?.cls === 'r32') {
    const n = reg(0)!.num;
    const v = cpu.regs[reg(1)!.num] >>> 0;
    if (n === 0) {
      if (((v ^ virtualCr0(d)) & ~CR0_TS) !== 0) return false; // only TS may change
      d.active.fpuTaskSwitched = (v & CR0_TS) !== 0;
    } else if (n === 3) {
      if (mm.newBaseptr(v >>> 12, d.active) !== 0) return false;
    } else return false;
  } else return false;
  cpu.eip = (cpu.eip + i.length) >>> 0;
  return true;
}

/** The forced-emulation prefix followed by cpuid's opcode (0f a2). */
const FORCED_CPUID = [...XEN_EMULATE_PREFIX, 0x0f, 0xa2];

/** A #UD at the forced-emulation prefix before cpuid: runs the cpuid and moves EIP past both; true when done. */
export function emulateForcedCpuid(d: Domain): boolean {
  const cpu = d.cpu;
  if (cpu.cpl !== 1 && cpu.cpl !== 3) return false;
  const bytes = d.read(cpu.eip, FORCED_CPUID.length);
  if (!bytes || FORCED_CPUID.some((b, i) => bytes[i] !== b)) return false;
  cpu.cpuid();
  cpu.eip = (cpu.eip + FORCED_CPUID.length) >>> 0;
  return true;
}
