// Call stacks in assembly, where no frame records say where they are: the words on the
// stack that are return addresses, i.e. point just after a call instruction in the
// program's code (a `call rel32` must lead to the function the frame is in, when known).

import { decode } from '../../isa/src/index.js';
import { ESP } from '../../hypervisor/src/cpu.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';
import { readGuest, readValue } from './guestmem.js';
import type { Program } from './program.js';

export interface StackFrame {
  /** Where the frame is executing: EIP for the innermost frame, a return address for the others. */
  pc: number;
  /** Where its return address is on the stack (the innermost frame: none). */
  slot: number | null;
  /** The function (label) it is in, if known. */
  fn: { name: string; start: number } | null;
}

/** How deep the stack is searched (words) and how many frames are returned. */
const MAX_WORDS = 1024, MAX_FRAMES = 64;

/** The length of the call instruction ending at `ret`, and its target if direct; null if none ends there. */
function callBefore(v: Vcpu, ret: number): { target: number | null } | null {
  const bytes = readGuest(v, (ret - 7) >>> 0, 7);
  if (bytes.length < 7) return null;
  // Direct call: E8 rel32 (5 bytes). Indirect: FF /2 with 2 to 7 bytes of ModRM, SIB, displacement.
  for (const len of [5, 2, 3, 6, 7, 4]) {
    const at = 7 - len;
    const r = decode(bytes.subarray(at), 0, (ret - len) >>> 0);
    if (!r.ok || r.insn.length !== len || r.insn.form.mnemonic !== 'call') continue;
    if (bytes[at] === 0xe8) return { target: (ret + ((bytes[at + 1] | (bytes[at + 2] << 8) | (bytes[at + 3] << 16) | (bytes[at + 4] << 24)) | 0)) >>> 0 };
    return { target: null };
  }
  return null;
}

export function callStack(v: Vcpu, program: Program | null): StackFrame[] {
  const pc = v.cpu.eip >>> 0;
  const frames: StackFrame[] = [{ pc, slot: null, fn: program?.functionAt(pc) ?? null }];
  if (program === null) return frames;
  let sp = v.cpu.regs[ESP] >>> 0;
  for (let i = 0; i < MAX_WORDS && frames.length < MAX_FRAMES; i++, sp = (sp + 4) >>> 0) {
    const word = readValue(v, sp, 4);
    if (word === null) break; // the end of the mapped stack
    if (!program.isCode(word)) continue;
    const call = callBefore(v, word);
    if (call === null) continue;
    const inner = frames[frames.length - 1].fn;
    // A direct call must have called the function the inner frame is in.
    if (call.target !== null && inner !== null && call.target !== inner.start) continue;
    frames.push({ pc: word, slot: sp, fn: program.functionAt((word - 1) >>> 0) });
  }
  return frames;
}
