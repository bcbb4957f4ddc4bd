// The few privileged instructions Xen emulates for a PV kernel when they fault in ring 1
// (xen/arch/x86/pv/emul-priv-op.c), with Xen's rules; every other privileged
// instruction stays a #GP(0) for the guest's handler:
//   mov from cr0/cr2/cr3/cr4  the virtual values (CR0.TS is fpu_taskswitch's; CR3 is the
//                             machine address of the current page directory)
//   mov to cr0                only TS may change (the rest must stay as it is)
//   mov to cr3                validated like MMUEXT_NEW_BASEPTR
//   clts                      clears the virtual TS
//   wbinvd, invd              nothing to do for a guest without cache control: skipped
// I/O instructions, MSRs, cli/sti, hlt and the descriptor-table loads are not emulated.

import { decode, MAX_INSTRUCTION_LENGTH } from '../../../isa/src/index.js';
import { CR0_PE, CR0_PG, CR0_TS, CR0_WP } from '../cpu.js';
import type { Domain } from './domain.js';
import type { MemoryManager } from './mm.js';

/** The CR0 a PV kernel sees: protected mode, paging, write protection, and its own TS. */
function virtualCr0(d: Domain): number {
  return (CR0_PE | CR0_WP | CR0_PG | (d.fpuTaskSwitched ? CR0_TS : 0) | 0x10) >>> 0; // ET is always set
}

/** Emulates the instruction at EIP if Xen would; true when done (EIP moved past it). */
export function emulatePrivileged(d: Domain, mm: MemoryManager): boolean {
  const cpu = d.cpu;
  if (cpu.cpl !== 1) return false;
  const bytes = d.read(cpu.eip, MAX_INSTRUCTION_LENGTH) ?? d.read(cpu.eip, 1);
  if (!bytes) return false;
  const r = decode(bytes, 0, cpu.eip);
  if (!r.ok) return false;
  const i = r.insn;
  const m = i.form.mnemonic;
  const ops = i.operands;
  const reg = (k: number) => (ops[k].type === 'reg' ? ops[k].reg : null);
  if (m === 'clts') d.fpuTaskSwitched = false;
  else if (m === 'wbinvd' || m === 'invd') {
    // nothing to flush
  } else if (m === 'mov' && reg(0)?.cls === 'r32' && reg(1)?.cls === 'creg') {
    const n = reg(1)!.num;
    const v = n === 0 ? virtualCr0(d) : n === 2 ? cpu.cr2 : n === 3 ? d.baseMfn * 4096 : 0;
    cpu.regs[reg(0)!.num] = v;
  } else if (m === 'mov' && reg(0)?.cls === 'creg' && reg(1)?.cls === 'r32') {
    const n = reg(0)!.num;
    const v = cpu.regs[reg(1)!.num] >>> 0;
    if (n === 0) {
      if (((v ^ virtualCr0(d)) & ~CR0_TS) !== 0) return false; // only TS may change
      d.fpuTaskSwitched = (v & CR0_TS) !== 0;
    } else if (n === 3) {
      if (mm.newBaseptr(v >>> 12, d) !== 0) return false;
    } else return false;
  } else return false;
  cpu.eip = (cpu.eip + i.length) >>> 0;
  return true;
}
