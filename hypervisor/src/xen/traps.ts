// Exceptions of a vCPU go to the handler it registered with set_trap_table, through a
// bounce frame on its kernel stack (Xen's create_bounce_frame): from ring 3 onto the
// stack given by stack_switch with SS and ESP first, then EFLAGS (IF = events enabled),
// CS (bits 16-23: the saved upcall mask), EIP and the error code if the vector has one.
// With no handler, or a kernel stack that cannot take the frame, the domain crashes.

import { ESP } from '../cpu.js';
import { field, sizeOf } from './abi.js';
import type { Vcpu } from './vcpu.js';

/** Vectors whose exceptions push an error code. */
const WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);
const MASK_EVENTS = 4;
const UPCALL_MASK = field('vcpu_info', 'evtchn_upcall_mask');
const CR2 = field('vcpu_info', 'arch') + field('arch_vcpu_info', 'cr2');
const VCPU_INFO_SIZE = sizeOf('vcpu_info');

/** Where vCPU `v`'s vcpu_info is in machine memory. */
const vcpuInfo = (v: Vcpu) => v.d.sharedInfoMfn * 4096 + v.id * VCPU_INFO_SIZE;

const NAMES: Record<number, string> = {
  0: 'divide error', 1: 'debug', 3: 'breakpoint', 4: 'overflow', 6: 'invalid opcode', 13: 'general protection fault', 14: 'page fault',
};

export function vectorName(v: number): string {
  return NAMES[v] ?? `vector ${v}`;
}

/** Delivers an exception to the vCPU's handler; false when the domain had to crash. */
export function bounce(v: Vcpu, vector: number, errorCode: number): boolean {
  const d = v.d;
  const cpu = v.cpu;
  const trap = v.traps.get(vector);
  if (!trap || (trap.cs & ~3) === 0) {
    d.crash(`${vectorName(vector)}${errorCode >= 0 ? ` (error code ${hex(errorCode)})` : ''} at ${hex(cpu.eip)}${vector === 14 ? `, address ${hex(cpu.cr2)}` : ''} with no handler registered`);
    return false;
  }
  if (vector === 14) cpu.mem.write32(vcpuInfo(v) + CR2, cpu.cr2);
  if (!enter(v, trap.cs, trap.address, WITH_ERROR_CODE.has(vector) ? errorCode : -1, (trap.flags & MASK_EVENTS) !== 0, vectorName(vector))) return false;
  d.count(d.counters.trapsByVector, vector);
  return true;
}

/** Enters the guest's event callback with events masked (the upcall); false if the domain crashed. */
export function upcall(v: Vcpu): boolean {
  const d = v.d;
  const cb = v.eventCallback;
  if (!cb || (cb.cs & ~3) === 0) {
    d.crash('an event is pending and no event callback is registered');
    return false;
  }
  if (!enter(v, cb.cs, cb.address, -1, true, 'an event upcall')) return false;
  d.counters.eventsDelivered++;
  return true;
}

/**
 * Builds the frame {[error code,] EIP, CS | saved mask << 16, EFLAGS with IF = events
 * enabled [, ESP, SS]} on the kernel stack and continues at cs:address in ring 1.
 */
function enter(v: Vcpu, cs: number, address: number, errorCode: number, maskEvents: boolean, what: string): boolean {
  const d = v.d;
  const cpu = v.cpu;
  const mem = cpu.mem;
  const info = vcpuInfo(v);
  const mask = mem.read8(info + UPCALL_MASK);
  const fromUser = cpu.cpl === 3;
  const frame: number[] = [];
  if (fromUser) frame.push(cpu.sregs[2], cpu.regs[ESP] >>> 0);
  const flags = (cpu.getFlags() & ~0x200) | (mask ? 0 : 0x200);
  frame.push(flags >>> 0, (cpu.sregs[1] | (mask << 16)) >>> 0, cpu.eip >>> 0);
  if (errorCode >= 0) frame.push(errorCode >>> 0);
  const sp = ((fromUser ? v.kernelSp : cpu.regs[ESP]) - 4 * frame.length) >>> 0;
  const bytes = new Uint8Array(4 * frame.length);
  // The first value pushed is at the highest address.
  frame.reverse().forEach((v, i) => {
    for (let b = 0; b < 4; b++) bytes[4 * i + b] = (v >>> (8 * b)) & 0xff;
  });
  if (!d.write(sp, bytes)) {
    d.crash(`cannot deliver ${what}: the kernel stack at ${hex(sp)} is not writable`);
    return false;
  }
  cpu.setSegments((cs & ~3) | 1, fromUser ? v.kernelSs : cpu.sregs[2], cpu.sregs[3]);
  cpu.regs[ESP] = sp;
  cpu.eip = address;
  if (maskEvents) mem.write8(info + UPCALL_MASK, 1);
  return true;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);
