// Hypercall dispatch: the number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, the result
// back in EAX. Guest pointers are read and written through the guest's page tables
// (EFAULT on a bad one). Numbers come from isa/'s hypercall table; a number without an
// implementation here is ENOSYS, as an unknown one is.

import { HYPERCALL_ARG_REGISTERS, hypercallByName, hypercallByNumber, registerByName } from '../../../isa/src/index.js';
import { Reg } from '../alu.js';
import { ascii, DOMID_SELF, getU64, EFAULT, EINVAL, ENOSYS, EPERM, field, k, MAX_BATCH } from './abi.js';
import type { Domain } from './domain.js';
import { checkDescriptor } from './descriptors.js';
import { PGT_SEG_DESC, PGT_WRITABLE } from './frames.js';
import { eventChannelOp } from './evtchn-op.js';
import { NR_PORTS, NS_PER_CYCLE } from './events.js';
import { grantTableOp } from './grant-table-op.js';
import { memoryOp } from './memory-op.js';
import { physdevOp } from './physdev-op.js';
import { setGdt, vcpuOp } from './vcpu-op.js';
import { ring1 } from './vcpu.js';
import { EXTOP_WORDS, UPDATE_WORDS, type BatchResult } from './mm.js';
import type { Xen } from './xen.js';

/** A hypercall's handler: its arguments are in `r`, the registers of the hypercall ABI (EBX, ECX, EDX, ESI, EDI; unsigned). */
type Handler = (xen: Xen, d: Domain, r: Int32Array) => number;

const num = (name: string) => {
  const h = hypercallByName(name);
  if (!h) throw new Error(`no hypercall ${name} in isa/`);
  return h.number;
};

const CONSOLEIO_write = k('CONSOLEIO_write');
const FIRST_RESERVED_GDT_ENTRY = k('FIRST_RESERVED_GDT_ENTRY');
const CONSOLEIO_read = k('CONSOLEIO_read');
const SCHEDOP_yield = k('SCHEDOP_yield');
const SCHEDOP_block = k('SCHEDOP_block');
const SCHEDOP_shutdown = k('SCHEDOP_shutdown');
const SCHEDOP_poll = k('SCHEDOP_poll');
/**
 * xen_version's commands as immediates (see Nr: xen_version is the null hypercall guests
 * make, as Linux's force_evtchn_callback does), checked against the ABI at load.
 */
const enum Xenver { version = 0, extraversion = 1, capabilities = 3, get_features = 6, pagesize = 7 }
if (
  Xenver.version !== k('XENVER_version') || Xenver.extraversion !== k('XENVER_extraversion') || Xenver.capabilities !== k('XENVER_capabilities') ||
  Xenver.get_features !== k('XENVER_get_features') || Xenver.pagesize !== k('XENVER_pagesize')
) throw new Error('hypercalls.ts: Xenver is out of step with the ABI');
/** What the guest sees as xen_version: 3.0, the ABI this hypervisor speaks. */
const enum Version { Xen = (3 << 16) | 0 }
/** What this Xen offers a PV guest: MMU_PT_UPDATE_PRESERVE_AD (writable page tables need the vm_assist). */
const FEATURES = 1 << k('XENFEAT_mmu_pt_update_preserve_ad');
const VMASST_CMD_enable = k('VMASST_CMD_enable');
const VMASST_CMD_disable = k('VMASST_CMD_disable');
/** Entries set_trap_table reads before giving up on finding the terminating one (16 per vector). */
const MAX_TRAP_ENTRIES = 4096;

function foreignOk(d: Domain, dom: number): boolean {
  const id = dom & 0xffff;
  return id === DOMID_SELF || id === d.domain;
}

/** Where a batch's requests are copied from the guest (one machine, one hypercall at a time). */
const BATCH = new Int32Array(MAX_BATCH * UPDATE_WORDS);
const BATCH_BYTES = new Uint8Array(BATCH.buffer);

/**
 * A batched hypercall's requests copied in and handled. Xen copies them one at a time;
 * copying all that are mapped first gives the same results (a bad pointer stops the
 * batch at the first request it reaches, EFAULT, after the ones before it took effect),
 * because Xen too reads them through the TLB as it was, and page-table updates do not
 * flush it. Only a batch placed inside one of its own page tables could tell.
 */
function runBatch(d: Domain, ptr: number, count: number, words: number, handle: (reqs: Int32Array, n: number) => BatchResult): BatchResult {
  const size = words * 4;
  const mapped = Math.floor(d.copyIn(ptr, count * size, BATCH_BYTES) / size);
  const r = handle(BATCH, mapped);
  return r.rc === 0 && mapped < count ? { rc: EFAULT, done: r.done } : r;
}

/** Writes a batch's `done` count where the guest asked (if it did); the batch's result. */
function finishBatch(d: Domain, pdone: number, r: BatchResult): number {
  if (pdone !== 0 && !d.write32(pdone, r.done)) return EFAULT;
  return r.rc;
}

// Handlers read their arguments by index: destructuring the array in the parameter list
// goes through the iterator protocol, which measurably slows the null hypercall.
const doConsoleIo: Handler = (_x, d, r) => {
  const cmd = r[Reg.EBX] >>> 0, count = r[Reg.ECX] >>> 0, buf = r[Reg.EDX] >>> 0;
  if (cmd === CONSOLEIO_write) {
    if (count > 0x10000) return EINVAL;
    const bytes = d.read(buf, count);
    if (!bytes) return EFAULT;
    d.writeConsole(String.fromCharCode(...bytes));
    return 0;
  }
  if (cmd === CONSOLEIO_read) {
    // Input the host typed at the emergency console, as much as fits.
    const n = Math.min(count, d.consoleInput.length);
    if (n === 0) return 0;
    if (!d.write(buf, ascii(d.consoleInput.slice(0, n)))) return EFAULT;
    d.consoleInput = d.consoleInput.slice(n);
    return n;
  }
  return EINVAL;
};
const doSetTrapTable: Handler = (_x, d, r) => {
  const table = r[Reg.EBX] >>> 0;
  if (table === 0) {
    d.active.traps.clear();
    return 0;
  }
  for (let at = table >>> 0, n = 0; ; at += 8, n++) {
    // Bounded: a guest can map one page over its whole address space, and the walk for
    // the terminating entry must still end (Xen would preempt it; this refuses it).
    if (n >= MAX_TRAP_ENTRIES) return EINVAL;
    const e = d.read(at, 8);
    if (!e) return EFAULT;
    const address = (e[4] | (e[5] << 8) | (e[6] << 16) | (e[7] << 24)) >>> 0;
    if (address === 0) return 0;
    d.active.setTrap(e[0], e[1], e[2] | (e[3] << 8), address);
  }
};
const doStackSwitch: Handler = (_x, d, r) => {
  const ss = r[Reg.EBX] >>> 0, esp = r[Reg.ECX] >>> 0;
  d.active.kernelSs = ring1(ss);
  d.active.kernelSp = esp >>> 0;
  return 0;
};
const doSchedOp: Handler = (_x, d, r) => {
  const cmd = r[Reg.EBX] >>> 0, arg = r[Reg.ECX] >>> 0;
  const v = d.active;
  if (cmd === SCHEDOP_yield) {
    v.yielded = true;
    return 0;
  }
  if (cmd === SCHEDOP_block) {
    // Events are enabled atomically with blocking; an event already pending ends the block at once.
    d.events.setUpcallMasked(v.id, false);
    if (!d.events.upcallPending(v.id)) v.blocked = true;
    return 0;
  }
  if (cmd === SCHEDOP_poll) {
    const a = d.read(arg, 16);
    if (!a) return EFAULT;
    const req = new DataView(a.buffer);
    const n = req.getUint32(field('sched_poll', 'nr_ports'), true);
    if (n > 128) return EINVAL;
    const list = d.read(req.getUint32(field('sched_poll', 'ports'), true), 4 * n);
    if (!list) return EFAULT;
    const ports = Array.from({ length: n }, (_, i) => new DataView(list.buffer).getUint32(4 * i, true));
    if (ports.some((p) => p >= NR_PORTS)) return EINVAL;
    // Already pending: no wait.
    if (ports.some((p) => d.events.isPending(p))) return 0;
    const t = field('sched_poll', 'timeout');
    const ns = getU64(req, t);
    v.poll = { ports, deadline: ns === 0 ? -1 : Math.ceil(ns / NS_PER_CYCLE) };
    v.blocked = true;
    return 0;
  }
  if (cmd === SCHEDOP_shutdown) {
    const reason = d.read32(arg);
    if (reason === null) return EFAULT;
    d.state = { kind: 'shutdown', reason };
    return 0;
  }
  return ENOSYS;
};
// XENVER_version (Xenver.version, 0) is the null hypercall (Linux's force_evtchn_callback):
// answered in a function small enough (V8 always inlines up to 27 bytes of bytecode, so the
// test is for zero) to be inlined into dispatch even when hotter hypercalls took its budget.
const doXenVersion: Handler = (_x, d, r) => {
  if (r[Reg.EBX]) return xenVersion(d, r);
  return Version.Xen;
};
const xenVersion = (d: Domain, r: Int32Array): number => {
  const cmd = r[Reg.EBX] >>> 0, arg = r[Reg.ECX] >>> 0;
  if (cmd === Xenver.pagesize) return 4096;
  if (cmd === Xenver.get_features) {
    // struct xen_feature_info { submap_idx, submap }: only submap 0 has bits.
    const idx = d.read32(arg);
    if (idx === null) return EFAULT;
    return d.write32(arg + 4, idx === 0 ? FEATURES : 0) ? 0 : EFAULT;
  }
  const text = cmd === Xenver.extraversion ? ['.0-xenolab', 16] as const : cmd === Xenver.capabilities ? ['xen-3.0-x86_32', 1024] as const : null;
  if (!text) return ENOSYS;
  const out = new Uint8Array(text[1]);
  out.set(ascii(text[0]));
  return d.write(arg, out) ? 0 : EFAULT;
};
const doVmAssist: Handler = (_x, d, r) => {
  const cmd = r[Reg.EBX] >>> 0, type = r[Reg.ECX] >>> 0;
  if (cmd !== VMASST_CMD_enable && cmd !== VMASST_CMD_disable) return EINVAL;
  if (type >= 32) return EINVAL;
  d.vmAssist = cmd === VMASST_CMD_enable ? d.vmAssist | (1 << type) : d.vmAssist & ~(1 << type);
  return 0;
};
const doMmuUpdate: Handler = (x, d, r) => {
  const reqs = r[Reg.EBX] >>> 0, count = r[Reg.ECX] >>> 0, pdone = r[Reg.EDX] >>> 0, foreign = r[Reg.ESI] >>> 0;
  if (!foreignOk(d, foreign)) return EPERM;
  if (count > MAX_BATCH) return EINVAL;
  const batch = runBatch(d, reqs, count, UPDATE_WORDS, (w, n) => x.mm.mmuUpdate(w, d.active, n));
  d.counters.ptUpdates += batch.done;
  return finishBatch(d, pdone, batch);
};
const doMmuextOp: Handler = (x, d, r) => {
  const ops = r[Reg.EBX] >>> 0, count = r[Reg.ECX] >>> 0, pdone = r[Reg.EDX] >>> 0, foreign = r[Reg.ESI] >>> 0;
  if (!foreignOk(d, foreign)) return EPERM;
  if (count > MAX_BATCH) return EINVAL;
  return finishBatch(d, pdone, runBatch(d, ops, count, EXTOP_WORDS, (w, n) => x.mm.mmuextOp(w, d.active, n)));
};
const doGrantTableOp: Handler = (x, d, r) => grantTableOp(x, d, r[Reg.EBX] >>> 0, r[Reg.ECX] >>> 0, r[Reg.EDX] >>> 0);
const doPhysdevOp: Handler = (_x, d, r) => physdevOp(d, r[Reg.EBX] >>> 0, r[Reg.ECX] >>> 0);
const doSetCallbacks: Handler = (_x, d, r) => {
  const evCs = r[Reg.EBX] >>> 0, evAddr = r[Reg.ECX] >>> 0, fsCs = r[Reg.EDX] >>> 0, fsAddr = r[Reg.ESI] >>> 0;
  d.active.eventCallback = { cs: ring1(evCs), address: evAddr };
  d.active.failsafeCallback = { cs: ring1(fsCs), address: fsAddr };
  return 0;
};
const doFpuTaskswitch: Handler = (_x, d, r) => {
  const set = r[Reg.EBX] >>> 0;
  d.active.fpuTaskSwitched = set !== 0;
  return 0;
};
const doSetTimerOp: Handler = (_x, d, r) => {
  const lo = r[Reg.EBX] >>> 0, hi = r[Reg.ECX] >>> 0;
  const ns = hi * 0x100000000 + lo;
  // 0 cancels; a time already past fires at once (on the way back to the guest).
  d.active.timerDeadline = ns === 0 ? -1 : Math.max(d.cpu.cycles, Math.ceil(ns / NS_PER_CYCLE));
  return 0;
};
const doIret: Handler = (_x, d) => iret(d);
const doEventChannelOp: Handler = (x, d, r) => eventChannelOp(x, d, r[Reg.EBX] >>> 0, r[Reg.ECX] >>> 0);
const doMulticall: Handler = (x, d, r) => {
  const list = r[Reg.EBX] >>> 0, count = r[Reg.ECX] >>> 0;
  if (count > MAX_BATCH) return EINVAL;
  for (let i = 0; i < count; i++) {
    const at = list + i * 32;
    const entry = d.read(at, 32);
    if (!entry) return EFAULT;
    const v = new DataView(entry.buffer);
    const op = v.getUint32(0, true);
    for (let j = 0; j < 5; j++) MULTICALL_ARGS[ARG_REGISTERS[j]] = v.getInt32(8 + 4 * j, true);
    // A failing call does not stop the batch; a multicall inside one is refused.
    const result = op === Nr.multicall ? EINVAL : dispatch(x, d, op, MULTICALL_ARGS);
    d.countHypercall(op);
    if (!d.write32(at + 4, result)) return EFAULT;
    if (op === Nr.iret || d.state.kind !== 'running') break;
  }
  return 0;
};
const doMemoryOp: Handler = (x, d, r) => memoryOp(x, d, r[Reg.EBX] >>> 0, r[Reg.ECX] >>> 0);
const doVcpuOp: Handler = (x, d, r) => vcpuOp(x, d, r[Reg.EBX] >>> 0, r[Reg.ECX] >>> 0, r[Reg.EDX] >>> 0);
const doSetGdt: Handler = (x, d, r) => {
  const list = r[Reg.EBX] >>> 0, entries = r[Reg.ECX] >>> 0;
  if (entries > FIRST_RESERVED_GDT_ENTRY) return EINVAL;
  const n = Math.ceil(entries / 512);
  const raw = n ? d.read(list, 4 * n) : new Uint8Array(0);
  if (!raw) return EFAULT;
  return setGdt(x, d.active, Array.from({ length: n }, (_, i) => new DataView(raw.buffer).getUint32(4 * i, true)));
};
const doUpdateDescriptor: Handler = (x, d, r) => {
  const paLo = r[Reg.EBX] >>> 0, paHi = r[Reg.ECX] >>> 0, lo = r[Reg.EDX] >>> 0, hi = r[Reg.ESI] >>> 0;
  if (paHi !== 0 || paLo & 7) return EINVAL;
  const mfn = paLo >>> 12;
  const f = x.frames;
  if (!f.getPage(mfn, d.domain)) return EINVAL;
  const desc = checkDescriptor(lo, hi);
  let rc = desc ? 0 : EINVAL;
  if (rc === 0) {
    // Into a descriptor page in use, or into an ordinary page (under a writable type reference).
    const inUse = f.typeRefs[mfn] > 0 && f.type[mfn] === PGT_SEG_DESC;
    if (!inUse) rc = x.mm.getPageType(mfn, PGT_WRITABLE, d.domain);
    if (rc === 0) {
      x.mem.write32(paLo, desc!.lo);
      x.mem.write32(paLo + 4, desc!.hi);
      if (!inUse) x.mm.putPageType(mfn);
    } else rc = EINVAL;
  }
  f.putPage(mfn);
  return rc;
};
const doUpdateVaMapping: Handler = (x, d, r) => {
  const va = r[Reg.EBX] >>> 0, lo = r[Reg.ECX] >>> 0, hi = r[Reg.EDX] >>> 0, flags = r[Reg.ESI] >>> 0;
  if (hi !== 0) return EINVAL;
  const rc = x.mm.updateVaMapping(va, lo, flags, d.active);
  if (rc === 0) d.counters.ptUpdates++;
  return rc;
};

/**
 * The numbers of the hypercalls handled here, as immediates: in a bundle a module constant
 * is a variable that optimized code loads and checks at each use, and a switch over such
 * values is a chain of compares, where one over a const enum's inlined numbers is a jump
 * table. Checked against isa/'s hypercall table at load.
 */
const enum Nr {
  set_trap_table = 0, mmu_update = 1, set_gdt = 2, stack_switch = 3, set_callbacks = 4,
  fpu_taskswitch = 5, update_descriptor = 10, memory_op = 12, multicall = 13,
  update_va_mapping = 14, set_timer_op = 15, xen_version = 17, console_io = 18,
  grant_table_op = 20, vm_assist = 21, iret = 23, vcpu_op = 24, mmuext_op = 26, sched_op = 29,
  event_channel_op = 32, physdev_op = 33,
}
const NUMBERS: readonly (readonly [string, Nr])[] = [
  ['set_trap_table', Nr.set_trap_table], ['mmu_update', Nr.mmu_update], ['set_gdt', Nr.set_gdt],
  ['stack_switch', Nr.stack_switch], ['set_callbacks', Nr.set_callbacks],
  ['fpu_taskswitch', Nr.fpu_taskswitch], ['update_descriptor', Nr.update_descriptor],
  ['memory_op', Nr.memory_op], ['multicall', Nr.multicall],
  ['update_va_mapping', Nr.update_va_mapping], ['set_timer_op', Nr.set_timer_op],
  ['xen_version', Nr.xen_version], ['console_io', Nr.console_io],
  ['grant_table_op', Nr.grant_table_op], ['vm_assist', Nr.vm_assist], ['iret', Nr.iret],
  ['vcpu_op', Nr.vcpu_op], ['mmuext_op', Nr.mmuext_op], ['sched_op', Nr.sched_op],
  ['event_channel_op', Nr.event_channel_op], ['physdev_op', Nr.physdev_op],
];
for (const [name, n] of NUMBERS) if (num(name) !== n) throw new Error(`hypercalls.ts: Nr.${name} is out of step with isa/`);
/** The argument registers of the hypercall ABI, in order, as indices into the CPU's registers. */
const ARG_REGISTERS = HYPERCALL_ARG_REGISTERS.map((name) => registerByName(name)!.num);
/** The arguments of one multicall entry, where a handler looks for them. */
const MULTICALL_ARGS = new Int32Array(8);

/**
 * Runs hypercall `n`'s handler (ENOSYS for an unknown number). A switch rather than a table
 * of functions: each call site here has one target, which V8 calls directly or inlines;
 * one call site with a score of targets costs a generic call on every hypercall.
 */
function dispatch(x: Xen, d: Domain, n: number, r: Int32Array): number {
  switch (n) {
    case Nr.console_io: return doConsoleIo(x, d, r);
    case Nr.set_trap_table: return doSetTrapTable(x, d, r);
    case Nr.stack_switch: return doStackSwitch(x, d, r);
    case Nr.sched_op: return doSchedOp(x, d, r);
    case Nr.xen_version: return doXenVersion(x, d, r);
    case Nr.vm_assist: return doVmAssist(x, d, r);
    case Nr.mmu_update: return doMmuUpdate(x, d, r);
    case Nr.mmuext_op: return doMmuextOp(x, d, r);
    case Nr.grant_table_op: return doGrantTableOp(x, d, r);
    case Nr.physdev_op: return doPhysdevOp(x, d, r);
    case Nr.set_callbacks: return doSetCallbacks(x, d, r);
    case Nr.fpu_taskswitch: return doFpuTaskswitch(x, d, r);
    case Nr.set_timer_op: return doSetTimerOp(x, d, r);
    case Nr.iret: return doIret(x, d, r);
    case Nr.event_channel_op: return doEventChannelOp(x, d, r);
    case Nr.multicall: return doMulticall(x, d, r);
    case Nr.memory_op: return doMemoryOp(x, d, r);
    case Nr.vcpu_op: return doVcpuOp(x, d, r);
    case Nr.set_gdt: return doSetGdt(x, d, r);
    case Nr.update_descriptor: return doUpdateDescriptor(x, d, r);
    case Nr.update_va_mapping: return doUpdateVaMapping(x, d, r);
  }
  return ENOSYS;
}

/**
 * The iret hypercall: the stub pushed EAX on the frame {EAX, EIP, CS, EFLAGS[, ESP, SS]}.
 * EFLAGS.IF becomes the virtual interrupt flag (evtchn_upcall_mask = !IF). Returns the EAX
 * it restored, as Xen's do_iret does (the hypercall's result goes into EAX, so every
 * hypercall has one); where it crashes the domain, EAX as it was.
 */
function iret(d: Domain): number {
  const cpu = d.cpu;
  const sp = cpu.regs[Reg.ESP] >>> 0;
  const f = d.read(sp, 24) ?? d.read(sp, 16);
  if (!f) {
    d.crash(`iret with an unreadable stack at 0x${sp.toString(16)}`);
    return cpu.regs[Reg.EAX];
  }
  const w = (i: number) => (f[4 * i] | (f[4 * i + 1] << 8) | (f[4 * i + 2] << 16) | (f[4 * i + 3] << 24)) >>> 0;
  const cs = w(2) & 0xffff;
  const rpl = cs & 3;
  if (rpl === 0) {
    d.crash('iret to ring 0');
    return cpu.regs[Reg.EAX];
  }
  if (rpl !== 1 && f.length < 24) {
    d.crash(`iret to ring ${rpl} with an unreadable stack at 0x${sp.toString(16)}`);
    return cpu.regs[Reg.EAX];
  }
  const flags = w(3);
  d.events.setUpcallMasked(d.active.id, (flags & 0x200) === 0);
  cpu.setFlags((cpu.getFlags() & 0x3000) | (flags & ~0x3000) | 0x200); // the real IF stays on; IOPL is Xen's
  if (rpl === 1) {
    cpu.setSegments(cs, cpu.sregs[2], cpu.sregs[3]);
    cpu.regs[Reg.ESP] = sp + 16;
  } else {
    cpu.setSegments(cs, w(5) & 0xffff, cpu.sregs[3]);
    cpu.regs[Reg.ESP] = w(4);
  }
  cpu.eip = w(1);
  return w(0) | 0;
}

type Tracer = (d: Domain, n: number, args: number[], result: number) => void;

/**
 * Runs the hypercall in the registers `r` of the vCPU that made it (by default the active
 * one's) and puts its result in EAX. Kept small, as the rarer traced case is apart: V8
 * inlines the whole null-hypercall path into a compiled block only while it fits a budget.
 */
export function hypercall(xen: Xen, d: Domain, trace: Tracer | null = null, r = d.cpu.regs): void {
  const n = r[Reg.EAX] >>> 0;
  d.countHypercall(n);
  if (trace === null) r[Reg.EAX] = dispatch(xen, d, n, r);
  else traced(xen, d, n, r, trace);
  if (xen.clobberArguments && r[Reg.EAX] !== ENOSYS) clobber(n, r);
}

/** What a debug build of Xen leaves in the argument registers a hypercall took. */
export const CLOBBERED = 0xdeadf00d | 0;
/** Per hypercall number: how many argument registers it takes. */
const ARG_COUNT = new Uint8Array(64);
for (let n = 0; n < ARG_COUNT.length; n++) ARG_COUNT[n] = hypercallByNumber(n)?.args.length ?? 0;

/** Overwrites the argument registers hypercall n took, as Xen's debug builds do (clobber_regs32). */
function clobber(n: number, r: Int32Array): void {
  const count = n < ARG_COUNT.length ? ARG_COUNT[n] : 0;
  for (let i = 0; i < count; i++) r[ARG_REGISTERS[i]] = CLOBBERED;
}

function traced(xen: Xen, d: Domain, n: number, r: Int32Array, trace: Tracer): void {
  // The handler reads its arguments from the registers; the tracer gets them as they were.
  const args = ARG_REGISTERS.map((i) => r[i] >>> 0);
  const result = (r[Reg.EAX] = dispatch(xen, d, n, r));
  trace(d, n, args, result);
}
