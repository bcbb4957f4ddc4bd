// Run control over time: the machine under the debugger, moving forwards by really
// running it and backwards by restoring a snapshot and running again to the point wanted.
//
// Everything the machine did is a timeline of *runs*: which vCPUs could run (all, or one
// while a thread steps) and where the run ended, as a point the machine can be stopped at
// again exactly. Snapshots are taken between runs every `spacing` cycles of machine time.
// The machine is deterministic and its stops never change what it does afterwards, so
// restoring a snapshot and repeating the runs that followed it passes through the same
// states; a reverse request is a search over that repetition. A forward request from a
// point in the past drops the future first (it will be made anew).

import type { WatchHit, Watch } from '../../hypervisor/src/memory.js';
import type { Machine } from '../../hypervisor/src/xen/boot.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';
import { History } from '../../hypervisor/src/xen/history.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';
import type { DebugEvent, RunResult, Xen } from '../../hypervisor/src/xen/xen.js';

/**
 * A point the machine can be stopped at again: between two instructions of a vCPU (at the
 * first such point with that many retired and its clock at least `cycles`), or a time at
 * which no vCPU ran.
 */
export type Position =
  | { kind: 'top'; vcpu: Vcpu; instructions: number; cycles: number }
  | { kind: 'time'; now: number };

interface Run {
  only: Vcpu | null;
  end: Position;
  /** A change the debugger made to the stopped machine (a register, memory, console input): repeated as made. */
  edit?: () => void;
}

/** Why the machine stopped, as the debugger reports it. */
export type Stop =
  | { kind: 'step'; vcpu: Vcpu }
  | { kind: 'breakpoint'; vcpu: Vcpu; address: number }
  | { kind: 'data'; vcpu: Vcpu | null; hit: WatchHit }
  | { kind: 'event'; vcpu: Vcpu | null; event: DebugEvent }
  | { kind: 'pause' }
  /** Every domain has ended. */
  | { kind: 'ended' }
  /** Every live vCPU is blocked with nothing to wake it. */
  | { kind: 'idle' }
  /** The launch's cycle limit. */
  | { kind: 'limit' }
  /** Going backwards, nothing stopped it before the start. */
  | { kind: 'beginning' };

/** What the session decides about a breakpoint or event met while running. */
export interface StopPolicy {
  /** A breakpoint at `address` stopped `vcpu`: stop there? (`replaying`: found by a reverse search, not run for the first time.) */
  breakpoint(vcpu: Vcpu, address: number, replaying: boolean): boolean;
  /** Does this event stop the machine? */
  event(e: DebugEvent, replaying: boolean): boolean;
}

const NEVER: StopPolicy = { breakpoint: () => false, event: () => false };
/** Machine time run between looks at the outside world (a pause request). */
const CHUNK = 2_000_000;
const FOREVER = 2 ** 52;

export class DebugMachine {
  readonly xen: Xen;
  readonly domains: readonly Domain[];
  private readonly history: History;
  private readonly runs: Run[] = [];
  /** Snapshot k was taken after runs[0 .. snapshotRun[k]). */
  private readonly snapshotRun: number[] = [];
  /** Where the machine is: after `done` runs, and, when a reverse request stopped inside the next one, at `partial`. */
  private cursor: { done: number; partial: Position | null } = { done: 0, partial: null };
  private lastSnapshotAt = 0;
  /** Host time spent running since the last snapshot, and what the last snapshot took (ms). */
  private runMsSinceSnapshot = 0;
  private snapshotMs = 0;
  /** The policy in force; NEVER while repeating runs that only have to reach a point. */
  private policy: StopPolicy = NEVER;
  private replaying = false;
  /** Events that asked for a stop since the machine last ran. */
  private events: DebugEvent[] = [];
  private watches: readonly Watch[] = [];
  /** Set by pause(): a forward run stops at its next look. */
  private pauseRequested = false;

  constructor(readonly machine: Machine, readonly maxCycles = Infinity, readonly spacing = 250_000,
    /** How many times as long as a snapshot took the machine must run before the next (0: spacing alone decides). */
    readonly snapshotCost = 10) {
    this.xen = machine.xen;
    this.domains = machine.domains;
    this.history = new History(this.xen, machine.backends);
    this.takeSnapshot();
    this.xen.debugHook = (e) => {
      if (!this.policy.event(e, this.replaying)) return false;
      this.events.push(e);
      return true;
    };
  }

  /** Every vCPU of every domain, in order. */
  get vcpus(): Vcpu[] {
    return this.domains.flatMap((d) => d.vcpus);
  }

  /** Bytes the snapshots hold, and how many there are. */
  get snapshotStats(): { snapshots: number; bytes: number; base: number } {
    return { snapshots: this.history.length, bytes: this.history.bytes, base: this.history.baseBytes };
  }

  /** Whether the machine is at the start of its timeline (nothing to go back to). */
  get atBeginning(): boolean {
    return this.cursor.done === 0 && this.cursor.partial === null;
  }

  /** Data breakpoints, by machine address. */
  setWatches(watches: readonly Watch[]): void {
    this.watches = watches;
    this.xen.mem.setWatches(watches);
  }

  pause(): void {
    this.pauseRequested = true;
  }

  /** Whether the machine is repeating runs for a reverse request (its output was seen already). */
  get isReplaying(): boolean {
    return this.replaying;
  }

  /** Changes the stopped machine; the change joins the timeline (the future is dropped first). */
  edit(apply: () => void): void {
    this.beginForward();
    apply();
    this.runs.push({ only: null, end: { kind: 'time', now: this.xen.now }, edit: apply });
    this.cursor = { done: this.runs.length, partial: null };
  }

  // ---- Forwards ----------------------------------------------------------------------------

  /**
   * Runs until a breakpoint, watch or event the policy stops at, a pause, or the end:
   * every vCPU as scheduled (or only `only`), with `target` (a vCPU's instruction count)
   * as a stop too. Yields to the event loop between chunks so pause requests get in.
   */
  async forward(policy: StopPolicy, opts: { only?: Vcpu | null; target?: Position; cycles?: number; yieldEvery?: () => Promise<void> } = {}): Promise<Stop> {
    this.beginForward();
    this.pauseRequested = false;
    const until = this.xen.now + (opts.cycles ?? Infinity);
    for (;;) {
      const stop = this.forwardChunk(policy, opts.only ?? null, opts.target ?? null, until);
      if (stop !== null) return stop;
      if (this.xen.now >= until) return { kind: 'pause' };
      if (opts.yieldEvery) await opts.yieldEvery();
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { kind: 'pause' };
      }
    }
  }

  /**
   * One instruction of `v`, the others paused unless `v` cannot run alone (blocked: then
   * all run until it does). Yields between chunks, so a pause request gets in.
   */
  async stepInstruction(v: Vcpu, policy: StopPolicy, alone = true, yieldEvery?: () => Promise<void>): Promise<Stop> {
    this.beginForward();
    this.pauseRequested = false;
    const target: Position = { kind: 'top', vcpu: v, instructions: v.cpu.instructions + 1, cycles: 0 };
    let only: Vcpu | null = alone ? v : null;
    for (;;) {
      const stop = this.forwardChunk(policy, only, target, Infinity);
      if (stop !== null) {
        if (stop.kind === 'idle' && only !== null) {
          only = null; // blocked, and only another vCPU can wake it
          continue;
        }
        return stop;
      }
      if (only !== null && !v.runnable) only = null;
      if (yieldEvery) await yieldEvery();
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { kind: 'pause' };
      }
    }
  }

  /** Runs one chunk; null when nothing stopped it. */
  private forwardChunk(policy: StopPolicy, only: Vcpu | null, target: Position | null, until: number): Stop | null {
    const xen = this.xen;
    if (xen.now >= this.maxCycles) return { kind: 'limit' };
    this.policy = policy;
    this.replaying = false;
    this.events = [];
    xen.mem.watchHit = null;
    xen.only = only;
    const t = target?.kind === 'top' ? target : null;
    if (t) (t.vcpu.cpu.stopAt = t.instructions), (t.vcpu.cpu.stopAtCycles = t.cycles);
    let r: RunResult;
    const t0 = performance.now();
    try {
      // Chunks no longer than the snapshot spacing, so that snapshots are that close.
      r = xen.runAll(Math.min(CHUNK, this.spacing, this.maxCycles - xen.now, until - xen.now));
    } finally {
      if (t) t.vcpu.cpu.stopAt = -1;
      xen.only = null;
      this.policy = NEVER;
    }
    this.runMsSinceSnapshot += performance.now() - t0;
    this.record(only, r);
    const stop = this.classify(r, policy, false, t);
    // Going on from a stop runs the instruction it stopped at, breakpoint or not.
    if (stop !== null && 'vcpu' in stop && stop.vcpu !== null) stop.vcpu.cpu.skipBreakpointHere();
    if (stop !== null || r.kind === 'ended' || r.kind === 'idle') return stop ?? { kind: r.kind === 'ended' ? 'ended' : 'idle' };
    return xen.now >= this.maxCycles ? { kind: 'limit' } : null;
  }

  /** What a run's end means: a stop to report, or null to go on. */
  private classify(r: RunResult, policy: StopPolicy, replaying: boolean, target: Position | null): Stop | null {
    const hit = this.xen.mem.watchHit;
    this.xen.mem.watchHit = null;
    switch (r.kind) {
      case 'breakpoint':
        return policy.breakpoint(r.vcpu, r.address, replaying) ? { kind: 'breakpoint', vcpu: r.vcpu, address: r.address } : null;
      case 'target':
        return target?.kind === 'top' && r.vcpu === target.vcpu ? { kind: 'step', vcpu: r.vcpu } : null;
      case 'requested':
      case 'machine': {
        const vcpu = r.kind === 'requested' ? r.vcpu : null;
        if (hit !== null) return { kind: 'data', vcpu, hit };
        const e = this.events[0];
        this.events = [];
        return e !== undefined ? { kind: 'event', vcpu, event: e } : null;
      }
      default:
        return null;
    }
  }

  /** A forward request from the past drops the future: what follows will be run anew. */
  private beginForward(): void {
    const { done, partial } = this.cursor;
    if (partial !== null) {
      // The run stopped inside becomes a run that ends here.
      this.runs[done] = { only: this.runs[done].only, end: partial };
      this.runs.length = done + 1;
      this.cursor = { done: done + 1, partial: null };
    } else this.runs.length = done;
    let k = this.snapshotRun.length - 1;
    while (k > 0 && this.snapshotRun[k] > this.cursor.done) k--;
    if (k < this.snapshotRun.length - 1) {
      this.history.truncate(k);
      this.snapshotRun.length = k + 1;
      this.lastSnapshotAt = this.history.info(k).now;
    }
  }

  /**
   * Appends a run to the timeline, and a snapshot when one is due: `spacing` cycles after
   * the last, and once the machine has run at least ten times as long as that snapshot
   * took (a machine of many domains costs more to save: its snapshots spread out rather
   * than slow it down). Where snapshots fall changes nothing the machine does.
   */
  private record(only: Vcpu | null, r: RunResult): void {
    this.runs.push({ only, end: this.positionAfter(r) });
    this.cursor = { done: this.runs.length, partial: null };
    if (this.xen.now - this.lastSnapshotAt >= this.spacing && this.runMsSinceSnapshot >= this.snapshotCost * this.snapshotMs) this.takeSnapshot();
  }

  private takeSnapshot(): void {
    const t0 = performance.now();
    this.history.take();
    this.snapshotRun.push(this.runs.length);
    this.lastSnapshotAt = this.xen.now;
    this.snapshotMs = performance.now() - t0;
    this.runMsSinceSnapshot = 0;
  }

  private positionAfter(r: RunResult): Position {
    if (r.kind === 'breakpoint' || r.kind === 'target' || r.kind === 'requested') return topOf(r.vcpu);
    return { kind: 'time', now: this.xen.now };
  }

  // ---- Backwards ---------------------------------------------------------------------------

  /** Back to the point before `v`'s last instruction (the first point after the one before it). */
  stepBack(v: Vcpu): Stop {
    const n = v.cpu.instructions;
    if (n === 0) return this.toBeginning();
    return this.goBackTo({ kind: 'top', vcpu: v, instructions: n - 1, cycles: 0 }) ? { kind: 'step', vcpu: v } : this.toBeginning();
  }

  /**
   * Back to `p`, a point before the present (a vCPU's earlier instruction count): from the
   * last snapshot before it, the runs are repeated until it is reached. False if no snapshot is before it.
   */
  goBackTo(p: Position & { kind: 'top' }): boolean {
    let k = this.snapshotBefore(this.cursor.done);
    // The snapshot must be before the point: the vCPU had not yet retired the instruction before it.
    while (k >= 0 && (this.history.info(k).retired.get(p.vcpu) ?? 0) > p.instructions - 1) k--;
    if (k < 0) return false;
    return this.replay(k, NEVER, p) !== null;
  }

  /**
   * Back to the last point before the present where the policy would have stopped (a
   * breakpoint, a watch, an event), searching snapshot by snapshot; the start if none.
   */
  reverse(policy: StopPolicy): Stop {
    const here = { ...this.cursor };
    for (let k = this.snapshotBefore(here.done); k >= 0; k--) {
      const found: { stop: Stop; run: number; at: Position }[] = [];
      this.replay(k, policy, null, here, (stop, run, at) => found.push({ stop, run, at }));
      const last = found[found.length - 1];
      if (last === undefined) continue;
      // Again, to stop there (restoring is cheap; the search had to run past it).
      this.replay(k, NEVER, null, { done: last.run, partial: last.at });
      return last.stop;
    }
    return this.toBeginning();
  }

  private toBeginning(): Stop {
    this.history.restore(0);
    this.cursor = { done: this.snapshotRun[0], partial: null };
    return { kind: 'beginning' };
  }

  /** The last snapshot taken at or before run `done`. */
  private snapshotBefore(done: number): number {
    let k = this.snapshotRun.length - 1;
    while (k > 0 && this.snapshotRun[k] > done) k--;
    return k;
  }

  /**
   * Restores snapshot `k` and repeats the runs after it, up to `until` (the present if
   * not given), or until `target` is reached; reports to `found` every stop the policy
   * makes on the way (the runs go on past them). Returns where it ended: null if the
   * target was not reached (it then ends at `until`).
   */
  private replay(k: number, policy: StopPolicy, target: (Position & { kind: 'top' }) | null,
    until: { done: number; partial: Position | null } = this.cursor,
    found?: (stop: Stop, run: number, at: Position) => void): Position | null {
    const xen = this.xen;
    this.history.restore(k);
    const searching = found !== undefined;
    // Watches only matter to a search; while merely repeating, nothing may stop the runs early.
    xen.mem.setWatches(searching ? this.watches : []);
    this.replaying = true;
    this.policy = policy;
    let reached: Position | null = null;
    let run = this.snapshotRun[k];
    const last = until.partial !== null ? until.done : until.done - 1;
    try {
      for (; run <= last; run++) {
        const r = this.runs[run];
        if (r.edit !== undefined) {
          r.edit();
          continue;
        }
        const end = run < until.done ? r.end : until.partial!;
        // A run that ended at a breakpoint ended where a search must find it (the present excepted).
        const got = this.repeat(r.only, end, target, searching ? (stop, at) => found(stop, run, at) : null, run !== last);
        if (got) {
          reached = target;
          break;
        }
      }
    } finally {
      this.replaying = false;
      this.policy = NEVER;
      xen.only = null;
      xen.mem.setWatches(this.watches);
      xen.mem.watchHit = null;
      this.events = [];
    }
    this.cursor = reached !== null ? { done: run, partial: topOf((reached as Position & { kind: 'top' }).vcpu) } : { ...until };
    // As a breakpoint stop would: going on runs the instruction here.
    if (this.cursor.partial?.kind === 'top') this.cursor.partial.vcpu.cpu.skipBreakpointHere();
    return reached;
  }

  /** Repeats one run up to `end`; true if `target` came first. */
  private repeat(only: Vcpu | null, end: Position, target: (Position & { kind: 'top' }) | null,
    found: ((stop: Stop, at: Position) => void) | null, reportEnd: boolean): boolean {
    const xen = this.xen;
    xen.only = only;
    const targets: (Position & { kind: 'top' })[] = [];
    if (end.kind === 'top') targets.push(end);
    if (target !== null) targets.push(target);
    // One stop target per CPU: the earlier of the two where they share one.
    const set = (p: Position & { kind: 'top' }) => {
      const cpu = p.vcpu.cpu;
      if (cpu.stopAt < 0 || p.instructions < cpu.stopAt || (p.instructions === cpu.stopAt && p.cycles < cpu.stopAtCycles)) {
        cpu.stopAt = p.instructions;
        cpu.stopAtCycles = p.cycles;
      }
    };
    try {
      for (;;) {
        for (const p of targets) set(p);
        // Even with nothing left of the budget the machine runs once: the run being repeated
        // did, and a run that ends where it starts may still change something (a slice ends).
        const budget = end.kind === 'time' ? Math.max(0, end.now - xen.now) : FOREVER;
        this.events = [];
        const r = xen.runAll(budget);
        for (const p of targets) p.vcpu.cpu.stopAt = -1;
        if (r.kind === 'target') {
          if (target !== null && r.vcpu === target.vcpu && atOrPast(r.vcpu, target)) return true;
          if (end.kind === 'top' && r.vcpu === end.vcpu && atOrPast(r.vcpu, end)) {
            const eip = r.vcpu.cpu.eip >>> 0;
            r.vcpu.cpu.skipBreakpointHere(); // as the stop that ended the run did
            if (found !== null && reportEnd && r.vcpu.cpu.hasBreakpoint(eip) && this.policy.breakpoint(r.vcpu, eip, true)) {
              found({ kind: 'breakpoint', vcpu: r.vcpu, address: eip }, end);
            }
            return false;
          }
          continue;
        }
        if (found !== null) {
          const stop = this.classify(r, this.policy, true, null);
          if (stop !== null) found(stop, this.positionAfter(r));
        }
        xen.mem.watchHit = null;
        if (r.kind === 'ended' || r.kind === 'idle') return false;
        if (end.kind === 'time' && xen.now >= end.now) return false;
      }
    } finally {
      for (const p of targets) p.vcpu.cpu.stopAt = -1;
    }
  }
}

function topOf(v: Vcpu): Position & { kind: 'top' } {
  return { kind: 'top', vcpu: v, instructions: v.cpu.instructions, cycles: v.cpu.cycles };
}

function atOrPast(v: Vcpu, p: Position & { kind: 'top' }): boolean {
  return v.cpu.instructions >= p.instructions && v.cpu.cycles >= p.cycles;
}
