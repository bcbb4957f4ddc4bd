// Hypercall dispatch: the number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, the result
// back in EAX. Guest pointers are read and written through the guest's page tables
// (EFAULT on a bad one). Numbers come from isa/'s hypercall table; a number without an
// implementation here is ENOSYS, as an unknown one is.

import { hypercallByName, xenField } from '../../../isa/src/index.js';
import { EAX, EBX, ECX, EDI, EDX, ESI, ESP } from '../cpu.js';
import { ascii, DOMID_SELF, EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, ENOSYS, EPERM, ESRCH, k } from './abi.js';
import type { Domain } from './domain.js';
import { BACKEND_DOMAIN } from './console.js';
import { checkDescriptor } from './descriptors.js';
import { PGT_SEG_DESC, PGT_WRITABLE } from './frames.js';
import { NR_PORTS, NS_PER_CYCLE } from './events.js';
import type { BatchResult, MmuextOp, MmuUpdate } from './mm.js';
import type { Xen } from './xen.js';

type Handler = (xen: Xen, d: Domain, a: number[]) => number;

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
const XENVER_version = k('XENVER_version');
const XENVER_extraversion = k('XENVER_extraversion');
const XENVER_capabilities = k('XENVER_capabilities');
const VMASST_CMD_enable = k('VMASST_CMD_enable');
const VMASST_CMD_disable = k('VMASST_CMD_disable');
/** Entries set_trap_table reads before giving up on finding the terminating one (16 per vector). */
const MAX_TRAP_ENTRIES = 4096;
/** Largest batch read in one go (Xen preempts long batches; here they simply run). */
const MAX_BATCH = 4096;

/** What the guest sees as xen_version: 3.0, the ABI this hypervisor speaks. */
const VERSION = (3 << 16) | 0;

function foreignOk(d: Domain, dom: number): boolean {
  const id = dom & 0xffff;
  return id === DOMID_SELF || id === d.domain;
}

/** The `count` records of `size` bytes a batched call passes at `ptr`, or its errno. */
function readBatch(d: Domain, foreign: number, ptr: number, count: number, size: number): DataView | number {
  if (!foreignOk(d, foreign)) return EPERM;
  if (count > MAX_BATCH) return EINVAL;
  const raw = d.read(ptr, count * size);
  return raw ? new DataView(raw.buffer) : EFAULT;
}

/** Writes a batch's `done` count where the guest asked (if it did); the batch's result. */
function finishBatch(d: Domain, pdone: number, r: BatchResult): number {
  if (pdone !== 0 && !d.write32(pdone, r.done)) return EFAULT;
  return r.rc;
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
    if (cmd === CONSOLEIO_read) {
      // Input the host typed at the emergency console, as much as fits.
      const n = Math.min(count, d.consoleInput.length);
      if (n === 0) return 0;
      if (!d.write(buf, ascii(d.consoleInput.slice(0, n)))) return EFAULT;
      d.consoleInput = d.consoleInput.slice(n);
      return n;
    }
    return EINVAL;
  }],
  [num('set_trap_table'), (_x, d, [table]) => {
    if (table === 0) {
      d.traps.clear();
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
    if (cmd === SCHEDOP_yield) return 0;
    if (cmd === SCHEDOP_block) {
      // Events are enabled atomically with blocking; an event already pending ends the block at once.
      d.events.upcallMasked = false;
      if (!d.events.upcallPending) d.blocked = true;
      return 0;
    }
    if (cmd === SCHEDOP_poll) {
      const a = d.read(arg, 16);
      if (!a) return EFAULT;
      const v = new DataView(a.buffer);
      const n = v.getUint32(field('sched_poll', 'nr_ports'), true);
      if (n > 128) return EINVAL;
      const list = d.read(v.getUint32(field('sched_poll', 'ports'), true), 4 * n);
      if (!list) return EFAULT;
      const ports = Array.from({ length: n }, (_, i) => new DataView(list.buffer).getUint32(4 * i, true));
      if (ports.some((p) => p >= NR_PORTS)) return EINVAL;
      // Already pending: no wait.
      if (ports.some((p) => d.events.isPending(p))) return 0;
      const t = field('sched_poll', 'timeout');
      const ns = v.getUint32(t + 4, true) * 0x100000000 + v.getUint32(t, true);
      d.poll = { ports, deadline: ns === 0 ? -1 : Math.ceil(ns / NS_PER_CYCLE) };
      d.blocked = true;
      return 0;
    }
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
  [num('vm_assist'), (_x, d, [cmd, type]) => {
    if (cmd !== VMASST_CMD_enable && cmd !== VMASST_CMD_disable) return EINVAL;
    if (type >= 32) return EINVAL;
    d.vmAssist = cmd === VMASST_CMD_enable ? d.vmAssist | (1 << type) : d.vmAssist & ~(1 << type);
    return 0;
  }],
  [num('mmu_update'), (x, d, [reqs, count, pdone, foreign]) => {
    const v = readBatch(d, foreign, reqs, count, 16);
    if (typeof v === 'number') return v;
    const list: MmuUpdate[] = [];
    for (let at = 0; at < count * 16; at += 16) {
      // 64-bit fields; a non-PAE machine address fits in the low half.
      if (v.getUint32(at + 4, true) !== 0 || v.getUint32(at + 12, true) !== 0) return EINVAL;
      list.push({ ptr: v.getUint32(at, true), val: v.getUint32(at + 8, true) });
    }
    const r = x.mm.mmuUpdate(list, d);
    d.counters.ptUpdates += r.done;
    return finishBatch(d, pdone, r);
  }],
  [num('mmuext_op'), (x, d, [ops, count, pdone, foreign]) => {
    const v = readBatch(d, foreign, ops, count, 12);
    if (typeof v === 'number') return v;
    const list: MmuextOp[] = [];
    for (let at = 0; at < count * 12; at += 12) list.push({ cmd: v.getUint32(at, true), arg1: v.getUint32(at + 4, true), arg2: v.getUint32(at + 8, true) });
    return finishBatch(d, pdone, x.mm.mmuextOp(list, d));
  }],
  [num('set_callbacks'), (_x, d, [evCs, evAddr, fsCs, fsAddr]) => {
    d.eventCallback = { cs: (evCs & 3) === 0 ? evCs | 1 : evCs, address: evAddr };
    d.failsafeCallback = { cs: (fsCs & 3) === 0 ? fsCs | 1 : fsCs, address: fsAddr };
    return 0;
  }],
  [num('fpu_taskswitch'), (_x, d, [set]) => {
    d.fpuTaskSwitched = set !== 0;
    return 0;
  }],
  [num('set_timer_op'), (_x, d, [lo, hi]) => {
    const ns = hi * 0x100000000 + lo;
    // 0 cancels; a time already past fires at once (on the way back to the guest).
    d.timerDeadline = ns === 0 ? -1 : Math.max(d.cpu.cycles, Math.ceil(ns / NS_PER_CYCLE));
    return 0;
  }],
  [num('iret'), (_x, d) => iret(d)],
  [num('event_channel_op'), (x, d, [cmd, arg]) => eventChannelOp(x, d, cmd, arg)],
  [num('multicall'), (x, d, [list, count]) => {
    if (count > MAX_BATCH) return EINVAL;
    for (let i = 0; i < count; i++) {
      const at = list + i * 32;
      const entry = d.read(at, 32);
      if (!entry) return EFAULT;
      const v = new DataView(entry.buffer);
      const op = v.getUint32(0, true);
      const args = [0, 1, 2, 3, 4].map((j) => v.getUint32(8 + 4 * j, true));
      // A failing call does not stop the batch; a multicall inside one is refused.
      const handler = op === MULTICALL ? null : HANDLERS.get(op);
      const result = op === MULTICALL ? EINVAL : handler ? handler(x, d, args) : ENOSYS;
      d.countHypercall(op);
      if (result !== NO_RESULT && !d.write32(at + 4, result)) return EFAULT;
      if (op === IRET || d.state.kind !== 'running') break;
    }
    return 0;
  }],
  [num('memory_op'), (x, d, [cmd, arg]) => memoryOp(x, d, cmd, arg)],
  [num('set_gdt'), (x, d, [list, entries]) => {
    if (entries > FIRST_RESERVED_GDT_ENTRY) return EINVAL;
    const n = Math.ceil(entries / 512);
    const raw = n ? d.read(list, 4 * n) : new Uint8Array(0);
    if (!raw) return EFAULT;
    const f = x.frames;
    const taken: number[] = [];
    const undo = () => taken.forEach((m) => (x.mm.putPageType(m), f.putPage(m)));
    for (let i = 0; i < n; i++) {
      const mfn = new DataView(raw.buffer).getUint32(4 * i, true);
      if (!f.getPage(mfn, d.domain)) {
        undo();
        return EINVAL;
      }
      if (x.mm.getPageType(mfn, PGT_SEG_DESC, d.domain) !== 0) {
        f.putPage(mfn);
        undo();
        return EINVAL; // mapped writable, in use as another type, or a descriptor Xen refuses
      }
      taken.push(mfn);
    }
    for (const m of d.gdtFrames) {
      x.mm.putPageType(m);
      f.putPage(m);
    }
    d.gdtFrames = taken;
    return 0;
  }],
  [num('update_descriptor'), (x, d, [paLo, paHi, lo, hi]) => {
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
  }],
  [num('update_va_mapping'), (x, d, [va, lo, hi, flags]) => {
    if (hi !== 0) return EINVAL;
    const rc = x.mm.updateVaMapping(va, lo, flags, d);
    if (rc === 0) d.counters.ptUpdates++;
    return rc;
  }],
]);

const MULTICALL = num('multicall');
const IRET = num('iret');
/** Returned by a hypercall that sets EAX itself (iret restores the guest's); no int32 result equals it. */
const NO_RESULT = -0x100000000;

/**
 * The iret hypercall: the stub pushed EAX on the frame {EAX, EIP, CS, EFLAGS[, ESP, SS]}.
 * EFLAGS.IF becomes the virtual interrupt flag (evtchn_upcall_mask = !IF).
 */
function iret(d: Domain): number {
  const cpu = d.cpu;
  const sp = cpu.regs[ESP] >>> 0;
  const f = d.read(sp, 24) ?? d.read(sp, 16);
  if (!f) {
    d.crash(`iret with an unreadable stack at 0x${sp.toString(16)}`);
    return NO_RESULT;
  }
  const w = (i: number) => (f[4 * i] | (f[4 * i + 1] << 8) | (f[4 * i + 2] << 16) | (f[4 * i + 3] << 24)) >>> 0;
  const cs = w(2) & 0xffff;
  const rpl = cs & 3;
  if (rpl === 0) {
    d.crash('iret to ring 0');
    return NO_RESULT;
  }
  if (rpl !== 1 && f.length < 24) {
    d.crash(`iret to ring ${rpl} with an unreadable stack at 0x${sp.toString(16)}`);
    return NO_RESULT;
  }
  const flags = w(3);
  d.events.upcallMasked = (flags & 0x200) === 0;
  cpu.regs[EAX] = w(0);
  cpu.setFlags((cpu.getFlags() & 0x3000) | (flags & ~0x3000) | 0x200); // the real IF stays on; IOPL is Xen's
  if (rpl === 1) {
    cpu.setSegments(cs, cpu.sregs[2], cpu.sregs[3]);
    cpu.regs[ESP] = sp + 16;
  } else {
    cpu.setSegments(cs, w(5) & 0xffff, cpu.sregs[3]);
    cpu.regs[ESP] = w(4);
  }
  cpu.eip = w(1);
  return NO_RESULT;
}

const EVTCHNOP_bind_interdomain = k('EVTCHNOP_bind_interdomain');
const EVTCHNOP_bind_virq = k('EVTCHNOP_bind_virq');
const EVTCHNOP_close = k('EVTCHNOP_close');
const EVTCHNOP_send = k('EVTCHNOP_send');
const EVTCHNOP_status = k('EVTCHNOP_status');
const EVTCHNOP_alloc_unbound = k('EVTCHNOP_alloc_unbound');
const EVTCHNOP_bind_ipi = k('EVTCHNOP_bind_ipi');
const EVTCHNOP_unmask = k('EVTCHNOP_unmask');
const STAT = { closed: k('EVTCHNSTAT_closed'), unbound: k('EVTCHNSTAT_unbound'), interdomain: k('EVTCHNSTAT_interdomain'), virq: k('EVTCHNSTAT_virq'), ipi: k('EVTCHNSTAT_ipi') };
/** VIRQs a domain may bind (the per-vCPU and global ones Xen defines up to VIRQ_ENOMEM). */
const NR_VIRQS = 24;

const field = (struct: string, name: string) => xenField(struct, name)!.offset;

function eventChannelOp(x: Xen, d: Domain, cmd: number, arg: number): number {
  const ev = d.events;
  const read32 = (off: number) => d.read32(arg + off);
  const port = (p: number | null) => (p !== null && p < NR_PORTS ? p : -1);
  switch (cmd) {
    case EVTCHNOP_bind_virq: {
      const virq = read32(field('evtchn_bind_virq', 'virq'));
      const vcpu = read32(field('evtchn_bind_virq', 'vcpu'));
      if (virq === null || vcpu === null) return EFAULT;
      if (virq >= NR_VIRQS) return EINVAL;
      if (vcpu !== 0) return ENOENT; // one vCPU per domain
      if (ev.virqPort[virq] >= 0) return EEXIST;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_virq', 'port'), p)) return EFAULT;
      ev.ports[p] = { kind: 'virq', virq };
      ev.virqPort[virq] = p;
      return 0;
    }
    case EVTCHNOP_bind_ipi: {
      const vcpu = read32(field('evtchn_bind_ipi', 'vcpu'));
      if (vcpu === null) return EFAULT;
      if (vcpu !== 0) return ENOENT;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_ipi', 'port'), p)) return EFAULT;
      ev.ports[p] = { kind: 'ipi' };
      return 0;
    }
    case EVTCHNOP_alloc_unbound: {
      const raw = d.read(arg, 4);
      if (!raw) return EFAULT;
      const dom = raw[0] | (raw[1] << 8), remote = raw[2] | (raw[3] << 8);
      if (dom !== DOMID_SELF && dom !== d.domain) return EPERM;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_alloc_unbound', 'port'), p)) return EFAULT;
      ev.ports[p] = { kind: 'unbound', remoteDom: remote === DOMID_SELF ? d.domain : remote };
      return 0;
    }
    case EVTCHNOP_bind_interdomain: {
      const raw = d.read(arg, 8);
      if (!raw) return EFAULT;
      const remoteDom = (raw[0] | (raw[1] << 8)) === DOMID_SELF ? d.domain : raw[0] | (raw[1] << 8);
      const remotePort = port(read32(field('evtchn_bind_interdomain', 'remote_port')));
      const other = x.domains.get(remoteDom);
      if (!other) return ESRCH;
      const target = remotePort >= 0 ? other.events.ports[remotePort] : null;
      if (!target || target.kind !== 'unbound' || target.remoteDom !== d.domain) return EINVAL;
      const p = ev.allocate();
      if (p < 0) return ENOSPC;
      if (!d.write32(arg + field('evtchn_bind_interdomain', 'local_port'), p)) return EFAULT;
      ev.ports[p] = { kind: 'interdomain', remoteDom, remotePort };
      other.events.ports[remotePort] = { kind: 'interdomain', remoteDom: d.domain, remotePort: p };
      return 0;
    }
    case EVTCHNOP_send: {
      const p = port(read32(0));
      const b = p >= 0 ? ev.ports[p] : null;
      if (!b || b.kind === 'free') return EINVAL;
      if (b.kind === 'interdomain') {
        if (b.remoteDom === BACKEND_DOMAIN && d.consoleBackend?.port === p) d.consoleBackend.drain();
        else x.domains.get(b.remoteDom)?.events.raise(b.remotePort);
      }
      else if (b.kind === 'ipi') ev.raise(p);
      // Sending on an unbound or VIRQ port is allowed and goes nowhere.
      return 0;
    }
    case EVTCHNOP_close: {
      const p = port(read32(0));
      const b = p >= 0 ? ev.ports[p] : null;
      if (!b || b.kind === 'free') return EINVAL;
      if (b.kind === 'virq') ev.virqPort[b.virq] = -1;
      if (b.kind === 'interdomain') {
        const other = x.domains.get(b.remoteDom);
        if (other) other.events.ports[b.remotePort] = { kind: 'unbound', remoteDom: d.domain };
      }
      ev.ports[p] = { kind: 'free' };
      return 0;
    }
    case EVTCHNOP_unmask: {
      const p = port(read32(0));
      if (p < 0) return EINVAL;
      ev.unmask(p);
      return 0;
    }
    case EVTCHNOP_status: {
      const raw = d.read(arg, 8);
      if (!raw) return EFAULT;
      const p = port(read32(field('evtchn_status', 'port')));
      if (p < 0) return EINVAL;
      const b = ev.ports[p];
      const out = new Uint8Array(16);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, b.kind === 'free' ? STAT.closed : STAT[b.kind], true);
      if (b.kind === 'unbound') dv.setUint16(8, b.remoteDom, true);
      if (b.kind === 'interdomain') {
        dv.setUint16(8, b.remoteDom, true);
        dv.setUint32(12, b.remotePort, true);
      }
      if (b.kind === 'virq') dv.setUint32(8, b.virq, true);
      return d.write(arg + field('evtchn_status', 'status'), out) ? 0 : EFAULT;
    }
    default:
      return ENOSYS;
  }
}

const XENMEM_increase_reservation = k('XENMEM_increase_reservation');
const XENMEM_decrease_reservation = k('XENMEM_decrease_reservation');
const XENMEM_current_reservation = k('XENMEM_current_reservation');
const XENMEM_maximum_reservation = k('XENMEM_maximum_reservation');

/**
 * memory_op: ballooning. decrease_reservation gives frames back (a PV guest names them by
 * machine frame; one still mapped or in use as a table stops the batch there);
 * increase_reservation takes frames up to the domain's maximum and writes their numbers
 * back. Both return how many extents they did.
 */
function memoryOp(x: Xen, d: Domain, cmd: number, arg: number): number {
  if (cmd === XENMEM_current_reservation || cmd === XENMEM_maximum_reservation) {
    const dom = d.read(arg, 2);
    if (!dom) return EFAULT;
    const id = dom[0] | (dom[1] << 8);
    if (id !== DOMID_SELF && id !== d.domain) return EPERM;
    return cmd === XENMEM_current_reservation ? d.pages : d.maxPages;
  }
  if (cmd !== XENMEM_increase_reservation && cmd !== XENMEM_decrease_reservation) return ENOSYS;
  const r = d.read(arg, 20);
  if (!r) return EFAULT;
  const v = new DataView(r.buffer);
  const list = v.getUint32(field('xen_memory_reservation', 'extent_start'), true);
  const count = v.getUint32(field('xen_memory_reservation', 'nr_extents'), true);
  const order = v.getUint32(field('xen_memory_reservation', 'extent_order'), true);
  const dom = v.getUint16(field('xen_memory_reservation', 'domid'), true);
  if (dom !== DOMID_SELF && dom !== d.domain) return EPERM;
  if (order !== 0 || count > MAX_BATCH) return EINVAL; // single pages only
  const f = x.frames;
  let done = 0;
  for (; done < count; done++) {
    const at = list + done * 4;
    if (cmd === XENMEM_decrease_reservation) {
      const mfn = d.read32(at);
      if (mfn === null) return done === 0 ? EFAULT : done;
      if (!(mfn < f.count) || f.owner[mfn] !== d.domain || f.refs[mfn] !== 1 || f.typeRefs[mfn] !== 0 || mfn === d.sharedInfoMfn) break;
      f.free(mfn);
      d.pages--;
    } else {
      if (d.pages >= d.maxPages) break;
      const got = f.allocate(d.domain, 1);
      if (!got) break;
      if (!d.write32(at, got[0])) {
        f.free(got[0]);
        return done === 0 ? EFAULT : done;
      }
      d.pages++;
    }
  }
  return done;
}

/** Runs the hypercall the vCPU stopped for and puts its result in EAX. */
/** Handlers by number, for a lookup without hashing. */
const BY_NUMBER: (Handler | undefined)[] = (() => {
  const table: (Handler | undefined)[] = [];
  for (const [n, h] of HANDLERS) table[n] = h;
  return table;
})();
/** The arguments of the hypercall being handled (handlers do not keep them). */
const ARGS = [0, 0, 0, 0, 0];

export function hypercall(xen: Xen, d: Domain, trace: ((d: Domain, n: number, args: number[], result: number) => void) | null = null): void {
  const r = d.cpu.regs;
  const n = r[EAX] >>> 0;
  d.countHypercall(n);
  const args = ARGS;
  args[0] = r[EBX] >>> 0;
  args[1] = r[ECX] >>> 0;
  args[2] = r[EDX] >>> 0;
  args[3] = r[ESI] >>> 0;
  args[4] = r[EDI] >>> 0;
  const handler = n < BY_NUMBER.length ? BY_NUMBER[n] : undefined;
  const result = handler ? handler(xen, d, args) : ENOSYS;
  if (result !== NO_RESULT) r[EAX] = result;
  trace?.(d, n, args, result === NO_RESULT ? r[EAX] : result);
}
