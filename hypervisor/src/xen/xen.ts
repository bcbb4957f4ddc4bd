// The simulated Xen: machine memory with its frame table, Xen's own frames (the read-only
// machine-to-physical table guests see at MACH2PHYS_VIRT_START), the page-table rules,
// the domains, and the machine's loop: one physical CPU and one clock, the scheduling
// policy choosing which vCPU of which domain runs, each slice handling what stops the vCPU
// (hypercalls, exceptions, upcalls, timers). Deterministic like the CPU under it: the
// same domains and inputs give the same interleaving.

import { PhysicalMemory } from '../memory.js';
import { BACKEND_DOMAIN } from './console.js';
import { EINVAL, HYPERVISOR_L2_SLOT, k, MACH2PHYS_VIRT_END, MACH2PHYS_VIRT_START, PAGE_ACCESSED, PAGE_PRESENT } from './abi.js';
import { buildDomain, type BootLayout, type BuildOptions } from './builder.js';
import type { Domain } from './domain.js';
import { FrameTable } from './frames.js';
import { hypercall } from './hypercalls.js';
import type { GuestImage } from './image.js';
import { MemoryManager } from './mm.js';
import { emulateForcedCpuid, emulatePageTableWrite, emulatePrivileged } from './emulate.js';
import type { GrantMapping } from './grant-table.js';
import { Bvt, type SchedulerPolicy } from './sched.js';
import { XenStore } from './xenstore/store.js';
import { Xenstored } from './xenstore/xenstored.js';
import { bounce, upcall } from './traps.js';
import { RUNSTATE, type Vcpu } from './vcpu.js';

const UD_VECTOR = 6;
const GP_VECTOR = 13;
/** The system-call vector whose gate Xen gives straight to the guest (x86_32 PV). */
const SYSCALL_VECTOR = 0x80;
const PF_VECTOR = 14;

const VIRQ_TIMER = k('VIRQ_TIMER');
const VIRQ_CONSOLE = k('VIRQ_CONSOLE');

/**
 * Cycles charged for each guest → hypervisor → guest round trip (a hypercall or a trap
 * the hypervisor handles), so that batching shows in time as on hardware, where a round
 * trip costs hundreds of instructions' worth. (A const enum for the hypercall path, where
 * a module constant would be a load: see hypercalls.ts's Nr.)
 */
const enum Cost { Transition = 500 }
export const TRANSITION_CYCLES: number = Cost.Transition;

/** A vCPU's turn on the CPU: until when, and how long it has run so far. */
interface Slice {
  v: Vcpu;
  end: number;
  ran: number;
}

export type RunResult =
  | { kind: 'budget' }
  | { kind: 'breakpoint'; address: number; domain: Domain; vcpu: Vcpu }
  /**
   * A debugger's stop between two of a vCPU's instructions, where a breakpoint would stop:
   * its stop target (Cpu.stopAt) was reached, or a stop was requested (a watched address
   * was accessed; `debugHook` asked for it).
   */
  | { kind: 'target' | 'requested'; domain: Domain; vcpu: Vcpu }
  /** A stop requested while no vCPU ran (a domain ended, dom0 wrote a watched address): at a scheduling point. */
  | { kind: 'machine' }
  | { kind: 'ended' }
  /** Every live domain is blocked with no event pending and no timer set: nothing will ever wake one. */
  | { kind: 'idle' };

/** What the machine tells a debugger as it happens (`Xen.debugHook`). */
export type DebugEvent =
  /** An exception a vCPU raised, before Xen handles it (EIP at a fault's instruction, after a trap's). */
  | { kind: 'trap'; vcpu: Vcpu; vector: number; errorCode: number; software: boolean }
  /** A hypercall returned (args are the registers it was made with). */
  | { kind: 'hypercall'; vcpu: Vcpu; number: number; args: readonly number[]; result: number }
  /** A domain stopped running: shut down or crashed. */
  | { kind: 'ended'; domain: Domain };

const BUDGET: RunResult = Object.freeze({ kind: 'budget' });
const MACHINE_STOP: RunResult = Object.freeze({ kind: 'machine' });
const ENDED: RunResult = Object.freeze({ kind: 'ended' });
const IDLE: RunResult = Object.freeze({ kind: 'idle' });

export class Xen {
  readonly mem: PhysicalMemory;
  readonly frames: FrameTable;
  readonly mm: MemoryManager;
  readonly domains = new Map<number, Domain>();
  private nextId = 1;
  /** Called after each hypercall (for tracing): domain, number, arguments, result. */
  onHypercall: ((d: Domain, n: number, args: number[], result: number) => void) | null = null;
  /**
   * A debugger's view of what happens: returning true stops the machine before the vCPU's
   * next instruction (or, with no vCPU running, at the next scheduling point). The stop is
   * one a breakpoint could make, so it changes nothing the machine does afterwards.
   */
  debugHook: ((e: DebugEvent) => boolean) | null = null;
  /**
   * Xen's debug-build behaviour: a hypercall that did not fail with -ENOSYS leaves 0xDEADF00D
   * in the argument registers it took (the ABI says they are clobbered; release builds
   * happen to keep them, so a guest that relies on that works there and breaks here).
   */
  clobberArguments = false;
  /** When set, only this vCPU runs (a debugger stepping one thread while the others stay paused). */
  only: Vcpu | null = null;
  /** A stop asked for while no vCPU ran. */
  private machineStop = false;
  /** The machine's clock in cycles since boot (one cycle is one nanosecond of system time). */
  now = 0;
  /** Which runnable domain runs next, and for how long. */
  policy: SchedulerPolicy = new Bvt();
  /** Grants dom0's built-in backends hold. */
  readonly hostMappings: GrantMapping[] = [];
  /** Dom0's xenstored: the store every domain reaches through its ring. */
  readonly xenstored = new Xenstored(new XenStore());
  /** A slice the budget or a breakpoint cut short, to go on with when the machine runs again. */
  private suspended: Slice | null = null;
  /** The runnable vCPUs at a scheduling point (one array, reused). */
  private readonly runnable: Vcpu[] = [];
  /** The vCPU on the physical CPU while run() runs one, else null. */
  private current: Vcpu | null = null;
  /** Set when a vCPU that woke should take the CPU from the current one. */
  private preempt = false;
  /** The running vCPU's slice, while it runs. */
  private slice: Slice | null = null;

  constructor(machineFrames = 8192) {
    this.mem = new PhysicalMemory(machineFrames);
    // The M2P table lives in machine memory (4 bytes per frame), mapped read-only into every
    // guest's hole by one page table of Xen's.
    const m2pFrames = Math.ceil((machineFrames * 4) / 4096);
    const m2pBytes = this.mem.bytes.subarray(0, m2pFrames * 4096);
    this.frames = new FrameTable(machineFrames, new Int32Array(m2pBytes.buffer, m2pBytes.byteOffset, machineFrames));
    const xenFrames = Array.from({ length: m2pFrames + 1 }, (_, i) => i);
    this.frames.reserveForXen(xenFrames);
    this.frames.m2p.fill(-1);
    const l1 = m2pFrames; // the page table mapping the M2P
    for (let i = 0; i < m2pFrames && i * 4096 < MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START; i++) {
      this.mem.write32(l1 * 4096 + i * 4, (i * 4096) | PAGE_PRESENT | PAGE_ACCESSED);
    }
    this.mm = new MemoryManager(this.mem, this.frames);
    // dom0 or Xen wrote a watched address: the vCPU they act for stops before its next instruction.
    this.mem.onWatch = () => this.requestStop();
    this.mm.xenL2Entries[(MACH2PHYS_VIRT_START >>> 22) - HYPERVISOR_L2_SLOT] = (l1 * 4096) | PAGE_PRESENT | PAGE_ACCESSED;
  }

  /** Builds a domain from a guest image; an error says why it could not be. */
  createDomain(image: GuestImage, opts: BuildOptions): { domain: Domain; layout: BootLayout } | { error: string } {
    const id = this.nextId;
    const built = buildDomain(this, id, image, opts);
    if ('error' in built) return built;
    this.nextId++;
    this.domains.set(id, built.domain);
    this.vcpuList = null;
    const d = built.domain;
    for (const v of d.vcpus) this.handleHypercallsInline(v);
    d.events.onRaise = (vcpu) => this.notify(d.vcpus[vcpu]);
    const console = d.consoleBackend;
    if (console) this.connectDom0(d, console.port, () => console.drain());
    this.connectDom0(d, this.xenstored.portOf(d), () => this.xenstored.notify(d));
    return built;
  }

  /**
   * Runs the machine for up to `budget` cycles: every domain, as the scheduling policy
   * decides; early when `d` has ended (shut down or crashed) or a breakpoint stops a vCPU.
   */
  run(d: Domain, budget: number): RunResult {
    return this.runMachine(budget, () => d.state.kind !== 'running');
  }

  /** Runs the machine for up to `budget` cycles, or until every domain has ended. */
  runAll(budget: number): RunResult {
    return this.runMachine(budget, () => {
      for (const d of this.domains.values()) if (d.state.kind === 'running') return false;
      return true;
    });
  }

  /** Dom0's ends of event channels (its built-in backends), by domain and port. */
  private readonly dom0Ports = new Map<number, Map<number, () => void>>();

  /**
   * Connects a domain's port to a handler in dom0: the port must be unbound for dom0
   * (EVTCHNOP_alloc_unbound with remote_dom 0), as a backend's bind_interdomain requires.
   */
  bindDom0(d: Domain, port: number, handler: () => void): number {
    const b = d.events.port(port);
    if (b.kind !== 'unbound' || b.remoteDom !== BACKEND_DOMAIN) return EINVAL;
    d.events.bind(port, { kind: 'interdomain', remoteDom: BACKEND_DOMAIN, remotePort: port });
    this.connectDom0(d, port, handler);
    return 0;
  }

  /** Undoes bindDom0: the port is unbound for dom0 again (the frontend may connect anew), its handler gone. */
  unbindDom0(d: Domain, port: number): void {
    const b = d.events.port(port);
    if (b.kind === 'interdomain' && b.remoteDom === BACKEND_DOMAIN) d.events.bind(port, { kind: 'unbound', remoteDom: BACKEND_DOMAIN });
    this.dom0Ports.get(d.domain)?.delete(port);
  }

  /** Registers dom0's handler for a port already connected to it (the store and console channels). */
  connectDom0(d: Domain, port: number, handler: () => void): void {
    let ports = this.dom0Ports.get(d.domain);
    if (!ports) this.dom0Ports.set(d.domain, (ports = new Map()));
    ports.set(port, handler);
  }

  /** Dom0's backends to stop before a domain is destroyed, by domain. */
  private readonly teardowns = new Map<number, (() => void)[]>();

  /** Runs `stop` when `d` is destroyed, before any of its frames is freed (a backend lets go of it). */
  onDestroy(d: Domain, stop: () => void): void {
    const list = this.teardowns.get(d.domain) ?? [];
    list.push(stop);
    this.teardowns.set(d.domain, list);
  }

  /** Stops what dom0 runs for a domain being destroyed. */
  tearDown(d: Domain): void {
    for (const stop of this.teardowns.get(d.domain) ?? []) stop();
    this.teardowns.delete(d.domain);
  }

  /** Forgets dom0's ends of a domain's channels (it was destroyed). */
  disconnectDom0(d: Domain): void {
    this.dom0Ports.delete(d.domain);
  }

  /** The domain sent on a port whose other end is dom0. */
  notifyDom0(d: Domain, port: number): void {
    this.dom0Ports.get(d.domain)?.get(port)?.();
  }

  /** A domain by id (grant operations name them). */
  domain(id: number): Domain | undefined {
    return this.domains.get(id);
  }

  /** The system time as the running vCPU sees it (the clock advances with it). */
  time(): number {
    return this.current !== null ? this.current.cpu.cycles : this.now;
  }

  /** Every vCPU of every domain, in scheduling order (rebuilt when a domain comes or goes). */
  private vcpuList: Vcpu[] | null = null;

  private allVcpus(): Vcpu[] {
    if (this.vcpuList === null) this.vcpuList = [...this.domains.values()].flatMap((d) => d.vcpus);
    return this.vcpuList;
  }

  /** Takes a destroyed domain off the machine. */
  removeDomain(d: Domain): void {
    this.domains.delete(d.domain);
    this.vcpuList = null;
    for (const v of d.vcpus) this.mem.detach(v.cpu);
  }

  /** Stops the running vCPU before its next instruction, or the machine at its next scheduling point. */
  private requestStop(): void {
    if (this.current !== null) this.current.cpu.requestStop();
    else this.machineStop = true;
  }

  private runMachine(budget: number, finished: () => boolean): RunResult {
    const end = this.now + budget;
    for (;;) {
      if (this.machineStop) {
        this.machineStop = false;
        return MACHINE_STOP;
      }
      if (finished()) return ENDED;
      // A slice that a budget or a breakpoint cut short goes on as if nothing had stopped
      // it: running in pieces must give the machine that running whole does. (Its own loop
      // fires the timers that are due, as it would have had it not stopped.)
      let slice = this.suspended;
      this.suspended = null;
      if (slice !== null && (!slice.v.runnable || (this.only !== null && slice.v !== this.only))) {
        // Paused, downed or ended between runs, or another vCPU is to run alone: the slice ends here.
        this.endSlice(slice);
        slice = null;
      }
      if (slice === null) {
        this.fireTimers();
        const runnable = this.runnable;
        runnable.length = 0;
        if (this.only !== null) {
          if (this.only.runnable) runnable.push(this.only);
        } else for (const v of this.allVcpus()) if (v.runnable) runnable.push(v);
        if (runnable.length === 0) {
          // Time passes with every vCPU blocked: on to the next timer (or the end of the budget).
          const wake = this.nextDeadline();
          if (wake === Infinity) return IDLE;
          this.now = Math.min(wake, end);
          if (this.now >= end) return BUDGET;
          continue;
        }
        if (this.now >= end) return BUDGET;
        const picked = this.policy.pick(runnable, this.now);
        slice = { v: picked.next as Vcpu, end: this.now + Math.max(1, picked.slice), ran: 0 };
      } else if (this.now >= end) {
        this.suspended = slice;
        return BUDGET;
      }
      const stop = this.runSlice(slice, end);
      if (stop !== null) return stop;
    }
  }

  /**
   * Runs a vCPU from now until its slice ends, or until it blocks, yields, goes down, its
   * domain ends, or a woken vCPU preempts it; the clock advances with it. The budget's
   * `end` or a breakpoint only suspends the slice (it is charged when it really ends).
   */
  private runSlice(slice: Slice, end: number): RunResult | null {
    const v = slice.v;
    const d = v.d;
    const cpu = v.cpu;
    const start = (cpu.cycles = this.now);
    v.setRunstate(RUNSTATE.running, start);
    this.current = v;
    this.slice = slice;
    d.active = v;
    this.preempt = false;
    let stopped: RunResult | null = null;
    let suspend = false;
    // The other vCPUs' timers and poll timeouts fire as the clock reaches them, during the
    // slice; those they wake may take the CPU or shorten the slice, as the policy says.
    let others = this.nextDeadline(v);
    while (d.state.kind === 'running' && v.up && !v.blocked && !v.yielded && !this.preempt) {
      const due = Math.min(others, v.nextTimer);
      if (cpu.cycles >= due) {
        this.fireTimers();
        others = this.nextDeadline(v);
        continue;
      }
      if (d.events.deliverable(v.id)) {
        d.events.publishTime(v.id);
        if (!upcall(v)) break;
      }
      const limit = Math.min(slice.end, due);
      if (cpu.cycles >= slice.end) break;
      if (cpu.cycles >= end) {
        suspend = true;
        break;
      }
      const stop = cpu.run(Math.min(limit, end) - cpu.cycles);
      if (stop.kind === 'breakpoint' || stop.kind === 'target' || stop.kind === 'requested') {
        stopped = stop.kind === 'breakpoint' ? { kind: 'breakpoint', address: stop.address, domain: d, vcpu: v } : { kind: stop.kind, domain: d, vcpu: v };
        suspend = true;
        break;
      }
      if (stop.kind === 'hypercall') {
        if (!stop.handled) this.service(v);
      } else if (stop.kind === 'exception') this.exception(v, stop.vector, stop.errorCode, stop.software);
      else if (stop.kind === 'halt') d.crash('hlt in ring 0'); // a guest never runs in ring 0
    }
    this.current = null;
    this.slice = null;
    if (d.state.kind !== 'running' && this.debugHook?.({ kind: 'ended', domain: d })) this.machineStop = true;
    const ran = cpu.cycles - start;
    this.now = cpu.cycles;
    v.cycles += ran;
    d.counters.cycles += ran;
    slice.ran += ran;
    if (suspend && d.state.kind === 'running' && v.up && !v.blocked && !v.yielded && !this.preempt) {
      this.suspended = slice;
      return stopped;
    }
    this.endSlice(slice);
    return stopped;
  }

  /** A slice is over: the vCPU leaves the CPU and the policy charges all it ran. */
  private endSlice(slice: Slice): void {
    const v = slice.v;
    v.yielded = false;
    v.setRunstate(v.idleRunstate, this.now);
    this.policy.charge(v, slice.ran, this.now);
  }

  /** An exception the vCPU stopped for: Xen's emulation, the fast system-call path, or the guest's handler. */
  private exception(v: Vcpu, vector: number, errorCode: number, software: boolean): void {
    const d = v.d;
    if (this.debugHook?.({ kind: 'trap', vcpu: v, vector, errorCode, software })) v.cpu.requestStop();
    if (software && vector === SYSCALL_VECTOR && v.traps.has(SYSCALL_VECTOR)) {
      // The fast system-call path: Xen installs the guest's int 0x80 gate in the real
      // IDT, so the kernel is entered without a hypervisor transition.
      bounce(v, vector, errorCode);
      return;
    }
    d.counters.transitions++;
    v.cpu.cycles += TRANSITION_CYCLES;
    // A #GP(0) from ring 1 may be one of the few privileged instructions Xen emulates.
    if (vector === GP_VECTOR && errorCode === 0 && !software && emulatePrivileged(d, this.mm)) return;
    if (vector === PF_VECTOR && emulatePageTableWrite(d, this.mm, errorCode)) return;
    if (vector === UD_VECTOR && !software && emulateForcedCpuid(d)) return;
    bounce(v, vector, errorCode);
  }

  /** Fires the timers that are due, and wakes the blocked vCPUs that now have what they wait for. */
  private fireTimers(): void {
    const now = this.time();
    for (const v of this.allVcpus()) {
      if (v.d.state.kind !== 'running' || !v.up) continue;
      if (v.timerDeadline >= 0 && now >= v.timerDeadline) this.fireTimer(v);
      if (v.periodicNext >= 0 && now >= v.periodicNext) this.tick(v, now);
      if (v.blocked && this.wakeable(v)) this.wake(v);
    }
  }

  /** Whether a blocked vCPU has what it waits for: SCHEDOP_block any upcall, SCHEDOP_poll one of its ports (masked or not) or its timeout. */
  private wakeable(v: Vcpu): boolean {
    const poll = v.poll;
    const events = v.d.events;
    if (poll === null) return events.upcallPending(v.id);
    return poll.ports.some((p) => events.isPending(p)) || (poll.deadline >= 0 && this.time() >= poll.deadline);
  }

  private wake(v: Vcpu): void {
    v.blocked = false;
    v.poll = null;
    v.setRunstate(v.idleRunstate, this.time());
    const cur = this.current, slice = this.slice;
    if (cur === null || cur === v || slice === null) {
      this.policy.wake(v, this.time());
      return;
    }
    // What the running vCPU has run of its slice: earlier pieces, and this one so far.
    const now = cur.cpu.cycles;
    const ran = slice.ran + now - this.now;
    this.policy.wake(v, now, { who: cur, ran });
    const at = this.policy.preemptAt(v, cur, ran, now);
    if (at <= now) {
      this.preempt = true;
      cur.changes++;
    } else if (at < slice.end) {
      slice.end = at;
      cur.changes++;
    }
  }

  /** An event was raised for vCPU `v`: it may wake. */
  private notify(v: Vcpu | undefined): void {
    if (v !== undefined && v.blocked && v.up && v.d.state.kind === 'running' && this.wakeable(v)) this.wake(v);
  }

  /** The earliest timer or poll timeout of a live vCPU other than `except` (Infinity: none). */
  private nextDeadline(except: Vcpu | null = null): number {
    let t = Infinity;
    for (const v of this.allVcpus()) {
      if (v.d.state.kind !== 'running' || !v.up || v === except) continue;
      t = Math.min(t, v.nextTimer);
      if (v.poll !== null && v.poll.deadline >= 0 && v.poll.deadline < t) t = v.poll.deadline;
    }
    return t;
  }

  /**
   * A hypercall of a vCPU: the transition charged, the handler, the trace. Whether the vCPU
   * may go on at once: nothing the slice loop decides by changed (Vcpu.changes) and it has
   * no upcall to take.
   */
  private service(v: Vcpu): boolean {
    const d = v.d, cpu = v.cpu, changes = v.changes;
    d.counters.transitions++;
    cpu.cycles += Cost.Transition;
    hypercall(this, d, this.onHypercall === null && this.debugHook === null ? null : this.traced, cpu.regs);
    return v.changes === changes && !d.events.deliverable(v.id);
  }

  /** Hypercall results for the tracer and the debugger. */
  private readonly traced = (d: Domain, n: number, args: number[], result: number): void => {
    this.onHypercall?.(d, n, args, result);
    if (this.debugHook?.({ kind: 'hypercall', vcpu: d.active, number: n, args, result })) d.active.cpu.requestStop();
  };

  /**
   * Hypercalls are handled where the vCPU makes them, without leaving the CPU's run loop;
   * it goes back to runSlice only when what that loop decides has changed (Vcpu.changes:
   * the domain stopped, the vCPU blocked, yielded or went down, set a timer, or a vCPU it
   * woke takes the CPU or shortens its slice) or it has an upcall to take.
   */
  private handleHypercallsInline(v: Vcpu): void {
    v.cpu.hypercallHandler = () => this.service(v);
  }

  /**
   * Host input for a domain: into its console ring (the PV console driver's path), and
   * for console_io reads, with VIRQ_CONSOLE raised if the domain bound it.
   */
  input(d: Domain, text: string): void {
    d.consoleBackend?.input(text);
    d.consoleInput += text;
    const port = d.vcpus[0].virqPort[VIRQ_CONSOLE]; // a global VIRQ: bound on vCPU 0
    if (port >= 0) d.events.raise(port);
  }

  /** A vCPU's periodic timer ticked: the next tick after `now`, and one VIRQ_TIMER however many passed (as Xen). */
  private tick(v: Vcpu, now: number): void {
    v.periodicNext += Math.ceil((now - v.periodicNext + 1) / v.periodicPeriod) * v.periodicPeriod;
    this.timerVirq(v);
  }

  /** A vCPU's one-shot timer fired. */
  private fireTimer(v: Vcpu): void {
    v.timerDeadline = -1;
    this.timerVirq(v);
  }

  /** VIRQ_TIMER for `v`, if it bound it. */
  private timerVirq(v: Vcpu): void {
    const port = v.virqPort[VIRQ_TIMER];
    if (port >= 0) v.d.events.raise(port);
  }
}
