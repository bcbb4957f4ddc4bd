// The simulated Xen: machine memory with its frame table, Xen's own frames (the read-only
// machine-to-physical table guests see at MACH2PHYS_VIRT_START), the page-table rules,
// the domains, and the loop that runs a domain's vCPU and handles what stops it
// (hypercalls, exceptions). Deterministic like the CPU under it.

import { PhysicalMemory } from '../memory.js';
import { HYPERVISOR_L2_SLOT, k, MACH2PHYS_VIRT_END, MACH2PHYS_VIRT_START, PAGE_ACCESSED, PAGE_PRESENT } from './abi.js';
import { buildDomain, type BootLayout, type BuildOptions } from './builder.js';
import type { Domain } from './domain.js';
import { FrameTable } from './frames.js';
import { hypercall } from './hypercalls.js';
import type { GuestImage } from './image.js';
import { MemoryManager } from './mm.js';
import { emulatePageTableWrite, emulatePrivileged } from './emulate.js';
import { bounce, upcall } from './traps.js';

const GP_VECTOR = 13;
/** The system-call vector whose gate Xen gives straight to the guest (x86_32 PV). */
const SYSCALL_VECTOR = 0x80;
const PF_VECTOR = 14;

const VIRQ_TIMER = k('VIRQ_TIMER');
const VIRQ_CONSOLE = k('VIRQ_CONSOLE');

/**
 * Cycles charged for each guest → hypervisor → guest round trip (a hypercall or a trap
 * the hypervisor handles), so that batching shows in time as on hardware, where a round
 * trip costs hundreds of instructions' worth.
 */
export const TRANSITION_CYCLES = 500;

export type RunResult =
  | { kind: 'budget' }
  | { kind: 'breakpoint'; address: number }
  | { kind: 'ended' }
  /** Blocked with no event pending and no timer set: nothing will ever wake it. */
  | { kind: 'idle' };

export class Xen {
  readonly mem: PhysicalMemory;
  readonly frames: FrameTable;
  readonly mm: MemoryManager;
  readonly domains = new Map<number, Domain>();
  private nextId = 1;
  /** Called after each hypercall (for tracing): domain, number, arguments, result. */
  onHypercall: ((d: Domain, n: number, args: number[], result: number) => void) | null = null;

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
    this.mm.xenL2Entries[(MACH2PHYS_VIRT_START >>> 22) - HYPERVISOR_L2_SLOT] = (l1 * 4096) | PAGE_PRESENT | PAGE_ACCESSED;
  }

  /** Builds a domain from a guest image; an error says why it could not be. */
  createDomain(image: GuestImage, opts: BuildOptions): { domain: Domain; layout: BootLayout } | { error: string } {
    const id = this.nextId;
    const built = buildDomain(this, id, image, opts);
    if ('error' in built) return built;
    this.nextId++;
    this.domains.set(id, built.domain);
    this.handleHypercallsInline(built.domain);
    return built;
  }

  /** Runs a domain until it shuts down or crashes, a breakpoint stops it, or `budget` cycles pass. */
  run(d: Domain, budget: number): RunResult {
    const cpu = d.cpu;
    const end = cpu.cycles + budget;
    while (d.state.kind === 'running') {
      if (d.timerDeadline >= 0 && cpu.cycles >= d.timerDeadline) this.fireTimer(d);
      if (d.blocked) {
        const poll = d.poll;
        // SCHEDOP_block wakes on any upcall; SCHEDOP_poll on one of its ports (masked or not) or its timeout.
        const woken = poll ? poll.ports.some((p) => d.events.isPending(p)) || (poll.deadline >= 0 && cpu.cycles >= poll.deadline) : d.events.upcallPending;
        if (woken) {
          d.blocked = false;
          d.poll = null;
        } else {
          const wake = Math.min(d.timerDeadline < 0 ? Infinity : d.timerDeadline, poll && poll.deadline >= 0 ? poll.deadline : Infinity);
          if (wake === Infinity) return { kind: 'idle' };
          // Time passes while the vCPU is blocked: on to the next timer (or the end of the budget).
          cpu.cycles = Math.min(wake, end);
          d.events.publishTime();
          if (cpu.cycles >= end) return { kind: 'budget' };
          continue;
        }
      }
      if (d.events.deliverable) {
        d.events.publishTime();
        if (!upcall(d)) continue;
      }
      if (cpu.cycles >= end) return { kind: 'budget' };
      const until = d.timerDeadline >= 0 ? Math.min(end, d.timerDeadline) : end;
      const stop = cpu.run(Math.max(1, until - cpu.cycles));
      switch (stop.kind) {
        case 'budget':
          if (cpu.cycles >= end) return { kind: 'budget' };
          break; // a timer is due first
        case 'breakpoint': return stop;
        case 'hypercall':
          if (!stop.handled) this.service(d);
          break;
        case 'exception':
          if (stop.software && stop.vector === SYSCALL_VECTOR && d.traps.has(SYSCALL_VECTOR)) {
            // The fast system-call path: Xen installs the guest's int 0x80 gate in the real
            // IDT, so the kernel is entered without a hypervisor transition.
            bounce(d, stop.vector, stop.errorCode);
            break;
          }
          d.counters.transitions++;
          cpu.cycles += TRANSITION_CYCLES;
          // A #GP(0) from ring 1 may be one of the few privileged instructions Xen emulates.
          if (stop.vector === GP_VECTOR && stop.errorCode === 0 && !stop.software && emulatePrivileged(d, this.mm)) break;
          if (stop.vector === PF_VECTOR && emulatePageTableWrite(d, this.mm, stop.errorCode)) break;
          bounce(d, stop.vector, stop.errorCode);
          break;
        case 'halt':
          d.crash('hlt in ring 0'); // a guest never runs in ring 0
          break;
      }
    }
    return { kind: 'ended' };
  }

  /** A hypercall of the domain's vCPU: the transition charged, the handler, the trace. */
  private service(d: Domain): void {
    d.counters.transitions++;
    d.cpu.cycles += TRANSITION_CYCLES;
    hypercall(this, d, this.onHypercall);
  }

  /**
   * Hypercalls are handled where the vCPU makes them, without leaving the CPU's run loop;
   * it goes back to run() only when what run() decides has changed: the domain stopped,
   * blocked, has an upcall to take, or set another timer.
   */
  private handleHypercallsInline(d: Domain): void {
    d.cpu.hypercallHandler = () => {
      const deadline = d.timerDeadline;
      this.service(d);
      return d.state.kind === 'running' && !d.blocked && d.timerDeadline === deadline && !d.events.deliverable;
    };
  }

  /**
   * Host input for a domain: into its console ring (the PV console driver's path), and
   * for console_io reads, with VIRQ_CONSOLE raised if the domain bound it.
   */
  input(d: Domain, text: string): void {
    d.consoleBackend?.input(text);
    d.consoleInput += text;
    const port = d.events.virqPort[VIRQ_CONSOLE];
    if (port >= 0) d.events.raise(port);
  }

  /** The one-shot timer fired: VIRQ_TIMER, if the domain bound it. */
  private fireTimer(d: Domain): void {
    d.timerDeadline = -1;
    const port = d.events.virqPort[VIRQ_TIMER];
    if (port >= 0) d.events.raise(port);
  }
}
