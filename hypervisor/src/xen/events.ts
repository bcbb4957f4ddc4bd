// Event channels with the two-level delivery of Xen's event_2l.c, the upcall to the
// guest's event callback, and virtual time. Pending and mask bits live in the domain's
// shared_info page, exactly where the guest reads them: evtchn_pending[] and
// evtchn_mask[] (1024 ports), and in the vcpu_info of the vCPU a port notifies
// evtchn_upcall_pending, evtchn_upcall_mask (the virtual interrupt flag) and
// evtchn_pending_sel. A port notifies vCPU 0 unless bound to another (bind_virq,
// bind_ipi, bind_vcpu).

import { field, sizeOf } from './abi.js';
import type { Domain } from './domain.js';

const SI_PENDING = field('shared_info', 'evtchn_pending');
const SI_MASK = field('shared_info', 'evtchn_mask');
/**
 * The vcpu_info fields read after every hypercall, as immediates (a module constant is a
 * load and a check there, a const enum member a number), checked against the ABI at load.
 */
const enum Vi { UpcallPending = 0, UpcallMask = 1, Size = 64 }
if (Vi.UpcallPending !== field('vcpu_info', 'evtchn_upcall_pending') || Vi.UpcallMask !== field('vcpu_info', 'evtchn_upcall_mask') || Vi.Size !== sizeOf('vcpu_info')) {
  throw new Error('events.ts: Vi is out of step with the ABI');
}
const VI_PENDING_SEL = field('vcpu_info', 'evtchn_pending_sel');
const VI_TIME = field('vcpu_info', 'time');
export const NR_PORTS = 1024;

/** Nanoseconds of virtual time per CPU cycle: the guest's clock is its cycle count. */
export const NS_PER_CYCLE = 1;

export type PortBinding =
  | { kind: 'free' }
  | { kind: 'unbound'; remoteDom: number }
  | { kind: 'interdomain'; remoteDom: number; remotePort: number }
  | { kind: 'virq'; virq: number }
  | { kind: 'ipi' };

const FREE: PortBinding = Object.freeze({ kind: 'free' });

export class EventChannels {
  /** Bound ports only (most of the 1,024 are free: Xen too allocates its buckets lazily). */
  private readonly bindings = new Map<number, PortBinding>();
  /** The vCPU each port notifies, where it is not vCPU 0. */
  private readonly notifyVcpu = new Map<number, number>();

  /** Called after an event is raised for one of the domain's vCPUs (the machine may wake it). */
  onRaise: (vcpu: number) => void = () => {};

  /** Machine memory's bytes, for the flag reads made after every hypercall. */
  private readonly bytes: Uint8Array;

  constructor(private readonly d: Domain) {
    this.bytes = d.cpu.mem.bytes;
  }

  /**
   * The machine address of the domain's shared_info page (Domain.sharedInfoMfn sets it),
   * kept as an address: the upcall flags are read from it after every hypercall.
   */
  sharedAt = -4096;

  /** A free port (port 0 is never allocated, as in Xen), or -1. */
  allocate(): number {
    for (let p = 1; p < NR_PORTS; p++) if (!this.bindings.has(p)) return p;
    return -1;
  }

  /** What a port is bound to (free when out of range). */
  port(p: number): PortBinding {
    return this.bindings.get(p) ?? FREE;
  }

  /** Binds a port; `vcpu` is the one it notifies (unchanged when not given; vCPU 0 once freed). */
  bind(p: number, b: PortBinding, vcpu?: number): void {
    if (p <= 0 || p >= NR_PORTS) throw new RangeError(`event channel port ${p} out of range`);
    if (b.kind === 'free') this.bindings.delete(p);
    else this.bindings.set(p, b);
    if (b.kind === 'free') this.setNotifyVcpu(p, 0);
    else if (vcpu !== undefined) this.setNotifyVcpu(p, vcpu);
  }

  /** The vCPU a port notifies. */
  vcpuOf(p: number): number {
    return this.notifyVcpu.get(p) ?? 0;
  }

  /** EVTCHNOP_bind_vcpu: later notifications of the port go to `vcpu`. */
  setNotifyVcpu(p: number, vcpu: number): void {
    if (vcpu === 0) this.notifyVcpu.delete(p);
    else this.notifyVcpu.set(p, vcpu);
  }

  /** The bound ports, in port order. */
  bound(): [number, PortBinding][] {
    return [...this.bindings].sort((a, b) => a[0] - b[0]);
  }

  private bit(base: number, port: number): boolean {
    return (this.d.cpu.mem.read8(this.sharedAt + base + (port >>> 3)) & (1 << (port & 7))) !== 0;
  }

  private setBit(base: number, port: number, on: boolean): void {
    const a = this.sharedAt + base + (port >>> 3);
    const mem = this.d.cpu.mem;
    const b = mem.read8(a);
    mem.write8(a, on ? b | (1 << (port & 7)) : b & ~(1 << (port & 7)));
  }

  isPending(port: number): boolean {
    return this.bit(SI_PENDING, port);
  }

  isMasked(port: number): boolean {
    return this.bit(SI_MASK, port);
  }

  /** Raises a port (evtchn_2l_set_pending): pending bit, then selector and upcall unless masked. */
  raise(port: number): void {
    if (this.isPending(port)) return;
    this.setBit(SI_PENDING, port, true);
    this.d.counters.eventsSent++;
    const vcpu = this.vcpuOf(port);
    if (!this.isMasked(port)) this.select(port, vcpu);
    this.onRaise(vcpu);
  }

  /** Where vCPU `v`'s vcpu_info is in machine memory. */
  private info(v: number): number {
    return this.sharedAt + v * Vi.Size;
  }

  /** The pending_sel bit of the port's word and the upcall flag of vCPU `v`. */
  private select(port: number, v: number): void {
    const mem = this.d.cpu.mem;
    const sel = this.info(v) + VI_PENDING_SEL;
    const word = port >>> 5;
    const bits = mem.read32(sel);
    if (bits & (1 << word)) return;
    mem.write32(sel, (bits | (1 << word)) >>> 0);
    mem.write8(this.info(v) + Vi.UpcallPending, 1);
  }

  /** evtchn_unmask: clear the mask; a port pending meanwhile raises the upcall now. */
  unmask(port: number): void {
    this.setBit(SI_MASK, port, false);
    if (this.isPending(port)) {
      const v = this.vcpuOf(port);
      this.select(port, v);
      this.onRaise(v);
    }
  }

  /** vCPU `v`'s virtual interrupt flag is clear. */
  upcallMasked(v: number): boolean {
    return this.bytes[this.info(v) + Vi.UpcallMask] !== 0;
  }

  setUpcallMasked(v: number, on: boolean): void {
    this.d.cpu.mem.write8(this.info(v) + Vi.UpcallMask, on ? 1 : 0);
  }

  upcallPending(v: number): boolean {
    return this.bytes[this.info(v) + Vi.UpcallPending] !== 0;
  }

  /** Whether vCPU `v` should be entered through its event callback now (checked after every hypercall). */
  deliverable(v: number): boolean {
    return this.upcallPending(v) && !this.upcallMasked(v);
  }

  /** Publishes vCPU `v`'s system time (its cycle count) in its vcpu_info.time (the version protocol: odd while updating). */
  publishTime(v: number): void {
    const mem = this.d.cpu.mem;
    const t = this.info(v) + VI_TIME;
    const version = mem.read32(t);
    const cycles = this.d.vcpus[v].cpu.cycles;
    mem.write32(t, (version + 1) >>> 0);
    writeU64(mem, t + 8, cycles); // tsc_timestamp: rdtsc counts cycles
    writeU64(mem, t + 16, cycles * NS_PER_CYCLE); // system_time
    // ns = ((tsc - tsc_timestamp) << 1) * 0x80000000 >> 32 = cycles: one cycle per ns.
    mem.write32(t + 24, 0x80000000);
    mem.write8(t + 28, 1);
    mem.write32(t, (version + 2) >>> 0);
  }
}

function writeU64(mem: Domain['cpu']['mem'], at: number, v: number): void {
  mem.write32(at, v >>> 0);
  mem.write32(at + 4, Math.floor(v / 0x100000000) >>> 0);
}
