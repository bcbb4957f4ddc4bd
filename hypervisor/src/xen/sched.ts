// Scheduling policies: which runnable vCPU runs next on the physical CPU, and for how
// long. Time is the machine's cycle clock (one cycle is one nanosecond). The machine
// (xen.ts) asks `pick` at every scheduling point, reports what ran with `charge`, and a
// wake-up with `wake`; `preemptAt` says when the running vCPU gives way to one that just
// woke: at once, earlier than its slice would have ended, or not before. Each vCPU is scheduled with its domain's
// parameters (as Xen's BVT gave each vCPU the domain's weight).

/** Per-domain scheduling parameters (the control interface sets them). */
export interface SchedParams {
  /** Share of the CPU relative to other domains (BVT's mcu_advance is its inverse). */
  weight: number;
  /** BVT: virtual time a woken domain may borrow (in MCUs of weight 1), 0 for none. */
  warp: number;
  /** BVT: how long a warp may last (cycles), 0 for no limit. */
  warpLimit: number;
  /** BVT: how long a domain must run unwarped before it may warp again (cycles). */
  unwarpRequirement: number;
}

export const DEFAULT_SCHED_PARAMS: SchedParams = Object.freeze({ weight: 1, warp: 0, warpLimit: 0, unwarpRequirement: 0 });

/** What a policy schedules: a vCPU, with its place in domain-then-vCPU order. */
export interface Schedulable {
  readonly order: number;
  readonly sched: SchedParams;
}

export interface SchedulerPolicy {
  readonly name: string;
  /** Picks among `runnable` (never empty, in `order`) the one to run at `now`, and its slice. */
  pick(runnable: readonly Schedulable[], now: number): { next: Schedulable; slice: number };
  /** `d` ran `cycles` (ending at `now`). */
  charge(d: Schedulable, cycles: number, now: number): void;
  /**
   * `d` became runnable at `now` (an event or a timer woke it, or it was created), while
   * `running` (if any) had run `ran` cycles of its slice.
   */
  wake(d: Schedulable, now: number, running?: { who: Schedulable; ran: number }): void;
  /**
   * `woken` became runnable at `now` while `running` has run `ran` cycles of its slice:
   * when `running` gives way (`now`: at once; a later time: its slice ends then; Infinity:
   * its slice is left as it is).
   */
  preemptAt(woken: Schedulable, running: Schedulable, ran: number, now: number): number;
}

/** 100 µs: BVT's minimum charging unit. */
export const MCU = 100_000;
/** 5 ms: the context-switch allowance, Xen 2003's default slice. */
export const CTX_ALLOW = 5_000_000;

/** Round robin in vCPU order, a fixed slice each, for tests and as a baseline. */
export class RoundRobin implements SchedulerPolicy {
  readonly name = 'round-robin';
  private last = -1;

  constructor(private readonly slice = CTX_ALLOW) {}

  pick(runnable: readonly Schedulable[]): { next: Schedulable; slice: number } {
    const next = runnable.find((d) => d.order > this.last) ?? runnable[0];
    this.last = next.order;
    return { next, slice: this.slice };
  }

  charge(): void {}
  wake(): void {}
  preemptAt(): number {
    return Infinity;
  }
}

interface BvtState {
  /** Actual virtual time, in MCUs of weight 1. */
  avt: number;
  /** When the current warp began, and when the domain last stopped warping (cycles). */
  warpedAt: number;
  unwarpedAt: number;
  /** Whether it may warp (set on wake, cleared when a warp runs out). */
  warpBack: boolean;
}

/**
 * Borrowed Virtual Time (Duda & Cheriton, SOSP'99), as Xen 2.0's sched_bvt.c runs it:
 * each domain's actual virtual time advances by ceil(ran / MCU) / weight; the runnable
 * domain with the lowest effective virtual time (actual, less its warp while it may warp)
 * runs, for the difference to the next one in its own time plus the context-switch
 * allowance (ten allowances when it is alone). A waking domain's time is raised to the
 * system virtual time so that sleeping banks no credit.
 */
export class Bvt implements SchedulerPolicy {
  readonly name = 'bvt';
  private readonly state = new Map<Schedulable, BvtState>();
  /** The domains runnable at the last pick: system virtual time is the least of their actual times. */
  private runnable: readonly Schedulable[] = [];

  constructor(private readonly ctxAllow = CTX_ALLOW) {}

  private of(d: Schedulable): BvtState {
    let s = this.state.get(d);
    if (s === undefined) {
      s = { avt: 0, warpedAt: 0, unwarpedAt: 0, warpBack: false };
      this.state.set(d, s);
      s.avt = this.svt(d);
    }
    return s;
  }

  /**
   * System virtual time (as `d` joins or wakes): the least actual virtual time of the
   * others that were runnable, the running one's counting what it has run of its slice.
   */
  private svt(d: Schedulable, running?: { who: Schedulable; ran: number }): number {
    let min = Infinity;
    for (const r of this.runnable) {
      if (r === d) continue;
      const extra = running !== undefined && r === running.who ? running.ran / MCU / r.sched.weight : 0;
      min = Math.min(min, this.of(r).avt + extra);
    }
    return min === Infinity ? 0 : min;
  }

  /** Effective virtual time: warped while warping is allowed, else the actual time. */
  private evt(d: Schedulable, now: number): number {
    const s = this.of(d);
    const p = d.sched;
    if (p.warp > 0 && s.warpBack) {
      const withinLimit = p.warpLimit === 0 || now - s.warpedAt < p.warpLimit;
      const rested = now - s.unwarpedAt >= p.unwarpRequirement;
      if (withinLimit && rested) return s.avt - p.warp;
      s.warpBack = false;
      s.unwarpedAt = now;
    }
    return s.avt;
  }

  pick(runnable: readonly Schedulable[], now: number): { next: Schedulable; slice: number } {
    this.runnable = runnable;
    let best = runnable[0], bestEvt = this.evt(best, now), second = Infinity;
    for (let i = 1; i < runnable.length; i++) {
      const e = this.evt(runnable[i], now);
      if (e < bestEvt) {
        second = bestEvt;
        best = runnable[i];
        bestEvt = e;
      } else if (e < second) second = e;
    }
    // Run until it passes the next one (each MCU run advances its time by 1 / weight), plus
    // the allowance: whole MCUs, since it is charged by the MCU.
    const slice = second === Infinity ? 10 * this.ctxAllow : Math.ceil((second - bestEvt) * best.sched.weight) * MCU + this.ctxAllow;
    return { next: best, slice };
  }

  charge(d: Schedulable, cycles: number): void {
    if (cycles <= 0) return;
    this.of(d).avt += Math.ceil(cycles / MCU) / d.sched.weight;
  }

  wake(d: Schedulable, now: number, running?: { who: Schedulable; ran: number }): void {
    const s = this.of(d);
    s.avt = Math.max(s.avt, this.svt(d, running));
    // Each wake may start a warp (bounded by the warp limit while it lasts, and by the
    // unwarp requirement since the last one ended).
    s.warpedAt = now;
    s.warpBack = true;
  }

  /**
   * Xen 2.0's bvt_wake: a woken vCPU whose effective virtual time is no later than the
   * running one's (counting what it has run of its slice) takes the CPU at once; otherwise
   * the running one's slice ends when it would pass the woken one, plus the allowance.
   */
  preemptAt(woken: Schedulable, running: Schedulable, ran: number, now: number): number {
    const w = this.evt(woken, now);
    const c = this.evt(running, now) + ran / MCU / running.sched.weight;
    if (w <= c) return now;
    return now - ran + Math.ceil((w - c) * running.sched.weight) * MCU + this.ctxAllow;
  }
}
