// Exceptions of a guest go to the handler it registered with set_trap_table, through a
// bounce frame on its kernel stack (Xen's create_bounce_frame): from ring 3 onto the
// stack given by stack_switch with SS and ESP first, then EFLAGS (IF = events enabled),
// CS (bits 16-23: the saved upcall mask), EIP and the error code if the vector has one.
// With no handler, or a kernel stack that cannot take the frame, the domain crashes.

import { xenField } from '../../../isa/src/index.js';
import { ESP } from '../cpu.js';
import type { Domain } from './domain.js';

/** Vectors whose exceptions push an error code. */
const WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);
const MASK_EVENTS = 4;
const UPCALL_MASK = xenField('vcpu_info', 'evtchn_upcall_mask')!.offset;
const CR2 = xenField('vcpu_info', 'arch')!.offset + xenField('arch_vcpu_info', 'cr2')!.offset;

const NAMES: Record<number, string> = {
  0: 'divide error', 1: 'debug', 3: 'breakpoint', 4: 'overflow', 6: 'invalid opcode', 13: 'general protection fault', 14: 'page fault',
};

export function vectorName(v: number): string {
  return NAMES[v] ?? `vector ${v}`;
}

/** Delivers an exception to the guest's handler; false when the domain had to crash. */
export function bounce(d: Domain, vector: number, errorCode: number): boolean {
  const cpu = d.cpu;
  const trap = d.traps.get(vector);
  if (!trap || (trap.cs & ~3) === 0) {
    d.crash(`${vectorName(vector)}${errorCode >= 0 ? ` (error code ${hex(errorCode)})` : ''} at ${hex(cpu.eip)}${vector === 14 ? `, address ${hex(cpu.cr2)}` : ''} with no handler registered`);
    return false;
  }
  const mem = cpu.mem;
  const shared = d.sharedInfoMfn * 4096;
  const mask = mem.read8(shared + UPCALL_MASK);
  if (vector === 14) mem.write32(shared + CR2, cpu.cr2);
  const fromUser = cpu.cpl === 3;
  const frame: number[] = [];
  if (fromUser) frame.push(cpu.sregs[2], cpu.regs[ESP] >>> 0);
  const flags = (cpu.getFlags() & ~0x200) | (mask ? 0 : 0x200);
  frame.push(flags >>> 0, (cpu.sregs[1] | (mask << 16)) >>> 0, cpu.eip >>> 0);
  if (WITH_ERROR_CODE.has(vector)) frame.push(errorCode >>> 0);
  const sp = ((fromUser ? d.kernelSp : cpu.regs[ESP]) - 4 * frame.length) >>> 0;
  const bytes = new Uint8Array(4 * frame.length);
  // Pushed first = highest address: the frame reads upwards from SP in reverse push order.
  frame.reverse().forEach((v, i) => {
    for (let b = 0; b < 4; b++) bytes[4 * i + b] = (v >>> (8 * b)) & 0xff;
  });
  if (!d.write(sp, bytes)) {
    d.crash(`cannot deliver ${vectorName(vector)}: the kernel stack at ${hex(sp)} is not writable`);
    return false;
  }
  if (fromUser) cpu.setSegments((trap.cs & ~3) | 1, d.kernelSs, cpu.sregs[3]);
  else cpu.setSegments((trap.cs & ~3) | 1, cpu.sregs[2], cpu.sregs[3]);
  cpu.regs[ESP] = sp;
  cpu.eip = trap.address;
  if (trap.flags & MASK_EVENTS) mem.write8(shared + UPCALL_MASK, 1);
  d.count(d.counters.trapsByVector, vector);
  return true;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);
