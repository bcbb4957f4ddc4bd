// A virtual CPU of a domain: its registers (a CPU of its own on the shared machine memory)
// and what Xen keeps per vCPU (struct vcpu): the page directory in its CR3, its virtual IDT,
// kernel stack, callbacks, GDT, virtual IOPL, one-shot timer and VIRQ bindings, and whether
// it is up, blocked or yielding. Its vcpu_info is slot `id` of the domain's shared_info.

import { HYPERCALL_VECTOR, type Cpu } from '../cpu.js';
import { k } from './abi.js';
import type { Domain } from './domain.js';
import type { VcpuContext } from './mm.js';
import type { SchedParams } from './sched.js';

export interface TrapEntry {
  /** DPL (which rings may raise it with `int n`) and flag 4: mask events on entry. */
  flags: number;
  cs: number;
  address: number;
}

export interface Callback {
  cs: number;
  address: number;
}

/** A guest selector of ring 0 is quietly made ring 1, as Xen's fixup_guest_{code,stack}_selector do. */
export const ring1 = (sel: number): number => ((sel & 3) === 0 ? sel | 1 : sel);


/** VIRQs a domain may bind (xen.h NR_VIRQS). */
export const NR_VIRQS = 24;

/** The run states of vcpu.h: on the CPU, waiting for it, blocked, down or paused. */
export const RUNSTATE = {
  running: k('RUNSTATE_running'), runnable: k('RUNSTATE_runnable'), blocked: k('RUNSTATE_blocked'), offline: k('RUNSTATE_offline'),
} as const;

export class Vcpu implements VcpuContext {
  /** The frame of the page directory in CR3, or -1 (it holds a PGT_L2 type reference). */
  baseMfn = -1;
  readonly traps = new Map<number, TrapEntry>();
  kernelSs = 0;
  kernelSp = 0;
  eventCallback: Callback | null = null;
  failsafeCallback: Callback | null = null;
  /**
   * Counts changes to what the machine's run loop decides by: whether it is up, blocked or
   * yielding, its timers, its domain's state, a wake-up that preempts it or shortens its
   * slice. A hypercall that changed none of them returns straight to the guest.
   */
  changes = 0;
  private _timerDeadline = -1;
  private _periodicNext = -1;
  private _blocked = false;
  private _yielded = false;
  private _up = false;
  /** VCPUOP_set_periodic_timer: the period (0: none; Xen's default of 10 ms is not applied). */
  periodicPeriod = 0;
  /** While blocked in SCHEDOP_poll: the ports it waits for, and its timeout in cycles (-1: none). */
  poll: { ports: number[]; deadline: number } | null = null;
  /** The virtual CR0.TS of fpu_taskswitch. */
  fpuTaskSwitched = false;
  /** The frames of the GDT installed with set_gdt (each holds a PGT_SEG_DESC type reference). */
  gdtFrames: number[] = [];
  /** The virtual IOPL of PHYSDEVOP_set_iopl (the CPU's own stays 0, so that I/O traps). */
  iopl = 0;
  /** The I/O permission bitmap of PHYSDEVOP_set_iobitmap: its guest address, and the ports it covers. */
  ioBitmap: { address: number; ports: number } | null = null;
  /** Given a context (the boot vCPU by the builder, the others by VCPUOP_initialise). */
  initialised = false;
  /** The port each VIRQ is bound to on this vCPU (-1: none). */
  readonly virqPort = new Int32Array(NR_VIRQS).fill(-1);
  /** Cycles it has run. */
  cycles = 0;
  /** Its RUNSTATE_*, the system time it entered it, and the time it spent in each before (VCPUOP_get_runstate_info). */
  runstate: number = RUNSTATE.offline;
  runstateEntry = 0;
  readonly runstateTime = [0, 0, 0, 0];

  constructor(readonly d: Domain, readonly id: number, readonly cpu: Cpu) {}

  /** Cycle count at which the one-shot timer of set_timer_op fires, or -1. */
  get timerDeadline(): number { return this._timerDeadline; }
  set timerDeadline(at: number) { this._timerDeadline = at; this.changes++; }
  /** The next tick of the periodic timer (VCPUOP_set_periodic_timer), or -1. */
  get periodicNext(): number { return this._periodicNext; }
  set periodicNext(at: number) { this._periodicNext = at; this.changes++; }
  /** Blocked in SCHEDOP_block until an event is pending (or in SCHEDOP_poll: see poll). */
  get blocked(): boolean { return this._blocked; }
  set blocked(on: boolean) { this._blocked = on; this.changes++; }
  /** Gave up the CPU with SCHEDOP_yield (until the scheduler next decides). */
  get yielded(): boolean { return this._yielded; }
  set yielded(on: boolean) { this._yielded = on; this.changes++; }
  /** Up (VCPUOP_up; the boot vCPU from the start): only an up vCPU is scheduled. */
  get up(): boolean { return this._up; }
  set up(on: boolean) { this._up = on; this.changes++; }

  /** Its domain's id (what the memory manager checks ownership against). */
  get domain(): number {
    return this.d.domain;
  }

  /** Its domain's share of the CPU: each vCPU is scheduled with it. */
  get sched(): SchedParams {
    return this.d.sched;
  }

  /** Scheduling order: by domain, then vCPU. */
  get order(): number {
    return this.d.domain * 64 + this.id;
  }

  /** An entry of its virtual IDT: `int vector` then reaches the guest from the rings `flags` allows. */
  setTrap(vector: number, flags: number, cs: number, address: number): void {
    this.traps.set(vector, { flags, cs: ring1(cs), address });
    if (vector !== HYPERCALL_VECTOR) this.cpu.gateDpl[vector] = flags & 3; // the hypercall gate stays ring 1
  }

  /** When its next timer fires, one-shot or periodic (Infinity: none). */
  get nextTimer(): number {
    const a = this.timerDeadline >= 0 ? this.timerDeadline : Infinity;
    return this.periodicNext >= 0 && this.periodicNext < a ? this.periodicNext : a;
  }

  /** Enters run state `state` at system time `now`. */
  setRunstate(state: number, now: number): void {
    if (state === this.runstate) return;
    this.runstateTime[this.runstate] += now - this.runstateEntry;
    this.runstate = state;
    this.runstateEntry = now;
  }

  /** The state it is in off the CPU: down or paused, blocked, or waiting for the CPU. */
  get idleRunstate(): number {
    return !this.up || this.d.paused || this.d.state.kind !== 'running' ? RUNSTATE.offline : this.blocked ? RUNSTATE.blocked : RUNSTATE.runnable;
  }

  /** Whether the scheduler may run it now. */
  get runnable(): boolean {
    return this.up && !this.blocked && !this.d.paused && this.d.state.kind === 'running';
  }

  /** The CPUs of its domain's vCPUs, which a flush of every vCPU's TLB reaches. */
  get siblings(): readonly Cpu[] {
    return this.d.vcpus.map((v) => v.cpu);
  }
}
