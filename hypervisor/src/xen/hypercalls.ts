// Hypercall dispatch: the number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, the result
// back in EAX. Guest pointers are read and written through the guest's page tables
// (EFAULT on a bad one). Numbers come from isa/'s hypercall table; a number without an
// implementation here is ENOSYS, as an unknown one is.

import { hypercallByName } from '../../../isa/src/index.js';
import { EAX, EBX, ECX, EDI, EDX, ESI } from '../cpu.js';
import { ascii, DOMID_SELF, EFAULT, EINVAL, ENOSYS, EPERM, k } from './abi.js';
import type { Domain } from './domain.js';
import type { MmuextOp, MmuUpdate } from './mm.js';
import type { Xen } from './xen.js';

type Handler = (xen: Xen, d: Domain, a: number[]) => number;

const num = (name: string) => {
  const h = hypercallByName(name);
  if (!h) throw new Error(`no hypercall ${name} in isa/`);
  return h.number;
};

const CONSOLEIO_write = k('CONSOLEIO_write');
const CONSOLEIO_read = k('CONSOLEIO_read');
const SCHEDOP_yield = k('SCHEDOP_yield');
const SCHEDOP_block = k('SCHEDOP_block');
const SCHEDOP_shutdown = k('SCHEDOP_shutdown');
const XENVER_version = k('XENVER_version');
const XENVER_extraversion = k('XENVER_extraversion');
const XENVER_capabilities = k('XENVER_capabilities');
const VMASST_CMD_enable = k('VMASST_CMD_enable');
const VMASST_CMD_disable = k('VMASST_CMD_disable');
/** Largest batch read in one go (Xen preempts long batches; here they simply run). */
const MAX_BATCH = 4096;

/** What the guest sees as xen_version: 3.0, the ABI this hypervisor speaks. */
const VERSION = (3 << 16) | 0;

function foreignOk(d: Domain, dom: number): boolean {
  const id = dom & 0xffff;
  return id === DOMID_SELF || id === d.domain;
}

const HANDLERS = new Map<number, Handler>([
  [num('console_io'), (_x, d, [cmd, count, buf]) => {
    if (cmd === CONSOLEIO_write) {
      if (count > 0x10000) return EINVAL;
      const bytes = d.read(buf, count);
      if (!bytes) return EFAULT;
      d.console.push(String.fromCharCode(...bytes));
      return 0;
    }
    if (cmd === CONSOLEIO_read) return 0; // no input queued
    return EINVAL;
  }],
  [num('set_trap_table'), (_x, d, [table]) => {
    if (table === 0) {
      d.traps.clear();
      return 0;
    }
    for (let at = table >>> 0; ; at += 8) {
      const e = d.read(at, 8);
      if (!e) return EFAULT;
      const address = (e[4] | (e[5] << 8) | (e[6] << 16) | (e[7] << 24)) >>> 0;
      if (address === 0) return 0;
      const vector = e[0], flags = e[1], cs = e[2] | (e[3] << 8);
      // A ring-0 code selector is quietly made ring 1, as Xen does.
      d.traps.set(vector, { flags, cs: (cs & 3) === 0 ? cs | 1 : cs, address });
      // `int n` from the rings the entry allows reaches the guest (the hypercall gate stays ring 1).
      if (vector !== 0x82) d.cpu.gateDpl[vector] = flags & 3;
    }
  }],
  [num('stack_switch'), (_x, d, [ss, esp]) => {
    d.kernelSs = (ss & 3) === 0 ? ss | 1 : ss;
    d.kernelSp = esp >>> 0;
    return 0;
  }],
  [num('sched_op'), (_x, d, [cmd, arg]) => {
    if (cmd === SCHEDOP_yield || cmd === SCHEDOP_block) return 0;
    if (cmd === SCHEDOP_shutdown) {
      const reason = d.read32(arg);
      if (reason === null) return EFAULT;
      d.state = { kind: 'shutdown', reason };
      return 0;
    }
    return ENOSYS;
  }],
  [num('xen_version'), (_x, d, [cmd, arg]) => {
    if (cmd === XENVER_version) return VERSION;
    const text = cmd === XENVER_extraversion ? ['.0-xenolab', 16] as const : cmd === XENVER_capabilities ? ['xen-3.0-x86_32', 1024] as const : null;
    if (!text) return ENOSYS;
    const out = new Uint8Array(text[1]);
    out.set(ascii(text[0]));
    return d.write(arg, out) ? 0 : EFAULT;
  }],
  [num('vm_assist'), (_x, _d, [cmd, type]) => {
    if (cmd !== VMASST_CMD_enable && cmd !== VMASST_CMD_disable) return EINVAL;
    return type < 32 ? 0 : EINVAL;
  }],
  [num('mmu_update'), (x, d, [reqs, count, pdone, foreign]) => {
    if (!foreignOk(d, foreign)) return EPERM;
    if (count > MAX_BATCH) return EINVAL;
    const raw = d.read(reqs, count * 16);
    if (!raw) return EFAULT;
    const list: MmuUpdate[] = [];
    for (let i = 0; i < count; i++) {
      const v = new DataView(raw.buffer, i * 16, 16);
      // 64-bit fields; a non-PAE machine address fits in the low half.
      if (v.getUint32(4, true) !== 0 || v.getUint32(12, true) !== 0) return EINVAL;
      list.push({ ptr: v.getUint32(0, true), val: v.getUint32(8, true) });
    }
    const r = x.mm.mmuUpdate(list, d);
    d.counters.ptUpdates += r.done;
    if (pdone !== 0 && !d.write32(pdone, r.done)) return EFAULT;
    return r.rc;
  }],
  [num('mmuext_op'), (x, d, [ops, count, pdone, foreign]) => {
    if (!foreignOk(d, foreign)) return EPERM;
    if (count > MAX_BATCH) return EINVAL;
    const raw = d.read(ops, count * 12);
    if (!raw) return EFAULT;
    const list: MmuextOp[] = [];
    for (let i = 0; i < count; i++) {
      const v = new DataView(raw.buffer, i * 12, 12);
      list.push({ cmd: v.getUint32(0, true), arg1: v.getUint32(4, true), arg2: v.getUint32(8, true) });
    }
    const r = x.mm.mmuextOp(list, d);
    if (pdone !== 0 && !d.write32(pdone, r.done)) return EFAULT;
    return r.rc;
  }],
  [num('update_va_mapping'), (x, d, [va, lo, hi, flags]) => {
    if (hi !== 0) return EINVAL;
    const rc = x.mm.updateVaMapping(va, lo, flags, d);
    if (rc === 0) d.counters.ptUpdates++;
    return rc;
  }],
]);

/** Runs the hypercall the vCPU stopped for and puts its result in EAX. */
export function hypercall(xen: Xen, d: Domain, trace: ((d: Domain, n: number, args: number[], result: number) => void) | null = null): void {
  const r = d.cpu.regs;
  const n = r[EAX] >>> 0;
  d.count(d.counters.hypercalls, n);
  const args = [r[EBX] >>> 0, r[ECX] >>> 0, r[EDX] >>> 0, r[ESI] >>> 0, r[EDI] >>> 0];
  const handler = HANDLERS.get(n);
  const result = handler ? handler(xen, d, args) : ENOSYS;
  r[EAX] = result;
  trace?.(d, n, args, result);
}
