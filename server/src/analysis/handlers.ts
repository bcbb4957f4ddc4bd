// The places Xen enters a kernel besides its entry point: the event and failsafe callbacks
// (set_callbacks, callback_op) and the handlers of a static trap table (set_trap_table),
// with what each is entered with.

import { xenConstant, xenField } from '../../../isa/src/index.js';
import { nameAt, sitesOf, type Context } from './context.js';
import { ECX, EDX, ESI } from './effects.js';
import { halfAt, wordAt } from './memory.js';

export interface HandlerEntry {
  /** Its first instruction. */
  instr: number;
  /** What it is, for messages: `the event callback on_event`, `the handler gp of vector 13`. */
  name: string;
  /** Xen enters it with events masked (the event callback; a trap whose flags ask for it). */
  masked: boolean;
  /**
   * Ring-3 code enters it on purpose with its arguments in registers (a trap gate of DPL 3:
   * `int 0x80`, a syscall/sysenter callback); any other is entered with the registers of
   * whatever it interrupted.
   */
  gate: boolean;
}

const HANDLERS = new WeakMap<Context, HandlerEntry[]>();
const BY_INSTR = new WeakMap<Context, Map<number, HandlerEntry>>();

/** handlerEntries by first instruction (the first registered, when several name one place). */
export function handlerAt(ctx: Context): ReadonlyMap<number, HandlerEntry> {
  let out = BY_INSTR.get(ctx);
  if (!out) {
    out = new Map();
    for (const e of handlerEntries(ctx)) if (!out.has(e.instr)) out.set(e.instr, e);
    BY_INSTR.set(ctx, out);
  }
  return out;
}

const CALLBACK = {
  register: xenConstant('CALLBACKOP_register')?.value,
  event: xenConstant('CALLBACKTYPE_event')?.value,
  gates: new Set(['CALLBACKTYPE_syscall', 'CALLBACKTYPE_sysenter_deprecated', 'CALLBACKTYPE_sysenter', 'CALLBACKTYPE_syscall32'].map((n) => xenConstant(n)?.value)),
  maskFlag: xenConstant('CALLBACKF_mask_events')?.value ?? 1,
  eip: (xenField('callback_register', 'address')?.offset ?? 4) + (xenField('xen_callback', 'eip')?.offset ?? 4),
};
const INITIALISE = xenConstant('VCPUOP_initialise')?.value;
const VCPU_CONTEXT = {
  event: xenField('vcpu_guest_context', 'event_callback_eip')?.offset ?? 2784,
  failsafe: xenField('vcpu_guest_context', 'failsafe_callback_eip')?.offset ?? 2792,
};
const TRAP = {
  size: 8,
  vector: xenField('trap_info', 'vector')?.offset ?? 0,
  flags: xenField('trap_info', 'flags')?.offset ?? 1,
  address: xenField('trap_info', 'address')?.offset ?? 4,
};

/** The handlers the program registers with Xen (as far as their addresses are constants). */
export function handlerEntries(ctx: Context): readonly HandlerEntry[] {
  let out = HANDLERS.get(ctx);
  if (out) return out;
  const { program } = ctx;
  const entries: HandlerEntry[] = [];
  const add = (address: number, name: string, masked: boolean, gate: boolean) => {
    const instr = program.byAddress.get(address >>> 0);
    if (instr !== undefined) entries.push({ instr, name, masked, gate });
  };
  // set_callbacks(event_selector, event_address, failsafe_selector, failsafe_address)
  for (const { site } of sitesOf(ctx, 'set_callbacks')) {
    const [event, failsafe] = [site.state?.regs[ECX], site.state?.regs[ESI]];
    if (typeof event === 'number') add(event, `the event callback ${nameAt(ctx, event)}`, true, false);
    if (typeof failsafe === 'number') add(failsafe, `the failsafe callback ${nameAt(ctx, failsafe)}`, false, false);
  }
  // callback_register {type, flags, address {cs, eip}}: static, or filled before the call
  for (const { site, ebx, ecx } of sitesOf(ctx, 'callback_op')) {
    if (ebx !== CALLBACK.register || ecx === null) continue;
    const type = halfAt(ctx, site.instr, ecx);
    const flags = halfAt(ctx, site.instr, ecx + 2);
    const eip = wordAt(ctx, site.instr, ecx + CALLBACK.eip)?.values;
    if (type === null || flags === null || eip?.length !== 1) continue;
    add(eip[0], `the callback ${nameAt(ctx, eip[0])}`, type === CALLBACK.event || (flags & CALLBACK.maskFlag) !== 0, CALLBACK.gates.has(type));
  }
  // a vCPU brought up with VCPUOP_initialise: the callbacks of its vcpu_guest_context (filled before the call)
  for (const { site, ebx } of sitesOf(ctx, 'vcpu_op')) {
    const context = site.state?.regs[EDX];
    if (ebx !== INITIALISE || typeof context !== 'number') continue;
    const at = (field: number) => {
      const w = wordAt(ctx, site.instr, (context + field) >>> 0)?.values;
      return w?.length === 1 && w[0] !== 0 ? w[0] : null;
    };
    const event = at(VCPU_CONTEXT.event), failsafe = at(VCPU_CONTEXT.failsafe);
    if (event !== null) add(event, `the event callback ${nameAt(ctx, event)}`, true, false);
    if (failsafe !== null) add(failsafe, `the failsafe callback ${nameAt(ctx, failsafe)}`, false, false);
  }
  // trap_info {vector, flags (DPL in bits 0-1, mask events in bit 2), cs, address}, ended by a zero address
  for (const { ebx } of sitesOf(ctx, 'set_trap_table')) {
    if (ebx === null) continue;
    for (let k = 0; k < 256; k++) {
      const base = ebx + k * TRAP.size;
      const address = program.read32(base + TRAP.address);
      const flags = program.read8(base + TRAP.flags);
      if (address === undefined || flags === undefined || address === 0) break;
      add(address, `the handler ${nameAt(ctx, address)} of vector ${program.read8(base + TRAP.vector)}`, (flags & 4) !== 0, (flags & 3) === 3);
    }
  }
  out = entries;
  HANDLERS.set(ctx, out);
  return out;
}
