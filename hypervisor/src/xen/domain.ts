// A domain: its frames (the pseudo-physical to machine map), its vCPUs, its event channels
// and grant table, its console output, how it ended, and the counters the debugger and
// profiler show. Guest memory is read and written the way Xen does it: through the page
// tables of the vCPU the hypervisor is acting for (`active`, Xen's `current`), failing
// (EFAULT) on a bad pointer.

import { Cpu } from '../cpu.js';
import type { PhysicalMemory } from '../memory.js';
import type { ConsoleBackend } from './console.js';
import { EventChannels } from './events.js';
import { GrantTable } from './grant-table.js';
import { DEFAULT_SCHED_PARAMS, type SchedParams } from './sched.js';
import { Vcpu } from './vcpu.js';

export type DomainState =
  | { kind: 'running' }
  | { kind: 'shutdown'; reason: number }
  /** `vcpu`: the one that crashed it, at `eip`. */
  | { kind: 'crashed'; why: string; eip: number; vcpu: number };

/** Hypercall numbers counted one by one (Xen's go up to 63); others are counted together. */
export const COUNTED_HYPERCALLS = 64;

/** A domain's device I/O, as its backends and grant operations see it. */
export interface IoCounters {
  /** Requests dom0's backends took from its rings, and responses they put back. */
  ringRequests: number;
  ringResponses: number;
  /** Responses published with a notification, and without one because the frontend had not asked (rsp_event). */
  notificationsSent: number;
  notificationsAvoided: number;
  /** grant_table_op operations it made (each of a batch). */
  grantOps: number;
  /** Bytes its backends and grant copies moved to or from its pages. */
  bytesMoved: number;
}

export interface DomainCounters {
  /** By hypercall number; index COUNTED_HYPERCALLS counts every larger number. */
  hypercalls: Float64Array;
  /** Cycles its vCPUs have run. */
  cycles: number;
  /** Guest → hypervisor entries (hypercalls and traps taken by the hypervisor). */
  transitions: number;
  /** Page-table entries changed by hypercalls (mmu_update, update_va_mapping). */
  ptUpdates: number;
  trapsByVector: Map<number, number>;
  eventsSent: number;
  /** Upcalls into the guest's event callback. */
  eventsDelivered: number;
  io: IoCounters;
}

export class Domain {
  /** Its vCPUs, by id; vCPU 0 boots, the others wait for VCPUOP_initialise and VCPUOP_up. */
  readonly vcpus: Vcpu[];
  /** The vCPU the hypervisor acts for: the one running, or the one that ran last. */
  active: Vcpu;
  /**
   * The machine frames the builder gave it, by pseudo-physical frame number. Afterwards the
   * guest keeps its own P2M list (ballooning changes that one, not this), as Xen keeps none.
   */
  readonly p2m: Int32Array;
  /** The frames of its xenstore and console rings, which dom0 keeps using. */
  ringFrames: number[] = [];
  private _state: DomainState = { kind: 'running' };
  readonly console: string[] = [];
  readonly counters: DomainCounters = { hypercalls: new Float64Array(COUNTED_HYPERCALLS + 1), cycles: 0, transitions: 0, ptUpdates: 0, trapsByVector: new Map(), eventsSent: 0, eventsDelivered: 0,
    io: { ringRequests: 0, ringResponses: 0, notificationsSent: 0, notificationsAvoided: 0, grantOps: 0, bytesMoved: 0 },
  };
  readonly events: EventChannels;
  /** Its grant table, and the grants of others it has mapped. */
  readonly grants = new GrantTable();
  /** A word for read32 and write32. */
  private readonly word = new Uint8Array(4);
  private readonly word32 = new Int32Array(this.word.buffer);
  /** Paused by the control interface: not scheduled until unpaused. */
  paused = false;
  /** Its share of the CPU, and BVT's warp parameters. */
  sched: SchedParams = { ...DEFAULT_SCHED_PARAMS };
  /** Pages the domain holds now, and the most it may hold (ballooning moves between them). */
  pages = 0;
  maxPages = 0;
  /** vm_assist types enabled (bit n: VMASST_TYPE n). */
  vmAssist = 0;
  /** Host input for the emergency console (console_io CONSOLEIO_read), not yet read. */
  consoleInput = '';
  /** The built-in console backend (set by the builder). */
  consoleBackend: ConsoleBackend | null = null;

  constructor(readonly domain: number, readonly name: string, mem: PhysicalMemory, p2m: readonly number[], vcpus = 1) {
    this.vcpus = Array.from({ length: vcpus }, (_, id) => new Vcpu(this, id, new Cpu(mem)));
    this.active = this.vcpus[0];
    this.p2m = Int32Array.from(p2m);
    this.events = new EventChannels(this);
  }

  /** Whether Xen or dom0 uses a frame of the domain's for it (so the domain may not give it back): shared_info, grant table, rings. */
  inUseByXen(mfn: number): boolean {
    return mfn === this.sharedInfoMfn || this.grants.frames.includes(mfn) || this.ringFrames.includes(mfn);
  }

  /** Machine frame of the shared_info page (-1: none yet); its events keep the address. */
  get sharedInfoMfn(): number {
    return this.events.sharedAt >> 12;
  }

  set sharedInfoMfn(mfn: number) {
    this.events.sharedAt = mfn * 4096;
  }

  /** Running, or how it ended (its vCPUs' loops see the change: Vcpu.changes). */
  get state(): DomainState {
    return this._state;
  }

  set state(s: DomainState) {
    this._state = s;
    for (const v of this.vcpus) v.changes++;
  }

  /** The CPU of the active vCPU (of the only one, in a uniprocessor domain). */
  get cpu(): Cpu {
    return this.active.cpu;
  }

  /** The frames its vCPUs hold type references on: page directories in CR3 and GDT frames. */
  get tablesHeld(): number[] {
    return this.vcpus.flatMap((v) => (v.baseMfn >= 0 ? [v.baseMfn, ...v.gdtFrames] : v.gdtFrames));
  }

  /** Drops a page from every vCPU's TLB (after a mapping of the domain changed under them all). */
  invalidatePage(va: number): void {
    for (const v of this.vcpus) v.cpu.invalidatePage(va);
  }

  /** Called with each piece of console output as the domain writes it (the host's view, in order). */
  onConsole: ((text: string) => void) | null = null;

  /** Console output from the guest (console_io or the console ring). */
  writeConsole(text: string): void {
    this.console.push(text);
    this.onConsole?.(text);
  }

  get consoleText(): string {
    return this.console.join('');
  }

  /** Guest bytes at virtual `va` (supervisor access through its page tables), or null if unmapped. */
  read(va: number, n: number): Uint8Array | null {
    const out = new Uint8Array(n);
    return this.copyIn(va, n, out) === n ? out : null;
  }

  /**
   * Copies up to `n` guest bytes at virtual `va` into `out` (from 0) a page at a time, as
   * Xen's copy_from_guest does; returns how many were copied before the first page that
   * is not mapped (`n` when all were).
   */
  copyIn(va: number, n: number, out: Uint8Array): number {
    const cpu = this.cpu;
    const bytes = cpu.mem.bytes;
    let done = 0;
    while (done < n) {
      const at = (va + done) >>> 0;
      const pa = cpu.supervisorTranslate(at, false);
      if (pa < 0) break;
      const chunk = Math.min(n - done, 4096 - (at & 4095));
      // set() pays for a view and a call: worth it only for longer copies.
      if (chunk > 64) out.set(bytes.subarray(pa, pa + chunk), done);
      else for (let k = 0; k < chunk; k++) out[done + k] = bytes[pa + k];
      done += chunk;
    }
    return done;
  }

  read32(va: number): number | null {
    return this.copyIn(va, 4, this.word) === 4 ? this.word32[0] >>> 0 : null;
  }

  /** Writes guest memory; false (nothing written) if any byte is not writable. */
  write(va: number, data: Uint8Array): boolean {
    const cpu = this.cpu;
    const targets: number[] = [];
    for (let done = 0; done < data.length; ) {
      const at = (va + done) >>> 0;
      const pa = cpu.supervisorTranslate(at, true);
      if (pa < 0) return false;
      targets.push(pa);
      done += Math.min(data.length - done, 4096 - (at & 4095));
    }
    // Every page was writable: now write (through PhysicalMemory, which drops cached code).
    for (let done = 0, k = 0; done < data.length; k++) {
      const at = (va + done) >>> 0;
      const chunk = Math.min(data.length - done, 4096 - (at & 4095));
      cpu.mem.load(targets[k], data.subarray(done, done + chunk));
      done += chunk;
    }
    return true;
  }

  write32(va: number, v: number): boolean {
    const pa = (va & 3) === 0 ? this.cpu.supervisorTranslate(va >>> 0, true) : -1;
    if (pa >= 0) {
      this.cpu.mem.write32(pa, v); // one aligned word is in one page
      return true;
    }
    this.word32[0] = v;
    return this.write(va, this.word);
  }

  crash(why: string): void {
    if (this.state.kind === 'running') this.state = { kind: 'crashed', why, eip: this.cpu.eip, vcpu: this.active.id };
  }

  count(map: Map<number, number>, key: number): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  countHypercall(n: number): void {
    // The last index is COUNTED_HYPERCALLS, from the array: a module constant is a load on every hypercall (see hypercalls.ts's Nr).
    const by = this.counters.hypercalls, other = by.length - 1;
    by[n < other ? n : other]++;
  }
}
