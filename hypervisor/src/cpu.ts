// The IA-32 CPU: executes guest machine code in protected mode with flat segments and
// rings 0-3 (CPL = CS.RPL), on top of its registers and lazy flags (alu.ts) and its view
// of memory through paging (mmu.ts) and the semantics of each instruction (exec.ts): the
// run loop with its inline fast paths and compiled blocks, and snapshots. Exceptions and
// software interrupts do not vector through an IDT: run() stops and reports them, and
// the hypervisor layer above decides what the guest sees (Xen bounces them to the
// guest's trap table). Deterministic: no clocks, no randomness; time is the cycle counter.

import { ALU_CMP, CS, DS, ES, Fast, Insn, K_REG, SS } from './compile.js';
import { TF } from './flags.js';
import { PAGE_MASK, PAGE_SHIFT, PhysicalMemory } from './memory.js';
import { ESP } from './alu.js';
import { CpuFault, DB, GP, HYPERCALL_VECTOR } from './arch.js';
import { TLB_SIZE } from './mmu.js';
import { BUDGET_STOP, Exec, HYPERCALL_HANDLED_STOP, HYPERCALL_STOP, REQUESTED_STOP, TARGET_STOP, type DescriptorTableRegister, type StopReason } from './exec.js';
import { SNAPSHOT, type SavesItself } from './snapshot.js';
import { blockable, canCompile, compileBlock, endsBlock, MAX_BLOCK, type Block, type BlockHost, type BlockItem } from './jit.js';

/** General register numbers. */
export { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP } from './alu.js';
export * from './arch.js';
export type { DescriptorTableRegister, StopReason } from './exec.js';

/** Everything architectural, as plain data (snapshots, the debugger's views). */
export interface CpuState {
  regs: number[];
  eip: number;
  eflags: number;
  sregs: number[];
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  dr: number[];
  gdtr: DescriptorTableRegister;
  idtr: DescriptorTableRegister;
  ldtr: number;
  tr: number;
  instructions: number;
  cycles: number;
}

/** A saved machine: the CPU's state, its TLB (a stale entry is architecturally visible) and memory. */
export interface Snapshot {
  readonly cpu: CpuState;
  readonly tlb: { tag: Int32Array; frame: Int32Array; perm: Uint8Array };
  readonly memory: Uint8Array;
}

export class Cpu extends Exec implements BlockHost, SavesItself {

  /** Compiled blocks (see jit.ts): on where the platform allows generating code. */
  jit = canCompile();
  /** Runs of an instruction through the interpreter before a block is compiled from it. */
  jitThreshold = 32;
  blockAt = 0;
  blockBase = 0;
  blockDone = 0;
  /** Cycles the hypervisor charged for hypercalls made inside the running block. */
  blockExtra = 0;
  /** The counters as they were when the running block started (run() holds them in locals). */
  private blockCycles = 0;
  private blockInstructions = 0;
  /** Set when a hypercall inside a block ends run(). */
  private blockStop: StopReason | null = null;
  /** Set by a breakpoint stop: the next run executes that instruction instead of stopping again. */
  private resumeAt = -1;
  /** The instruction the last run() stopped after (a hypercall's int 0x82), its address and
   *  the code generation it was fetched in: the next run() starts through its links. */
  private lastInsn: Insn | null = null;
  private lastStart = 0;
  private lastGen = -1;
  /**
   * A debugger's stop target: run() stops (kind 'target') between two instructions, where
   * a breakpoint would, at the first such point with `stopAt` instructions retired and
   * the cycle counter at least `stopAtCycles` (a faulting instruction leaves the count
   * alone, so the count alone could name two points). -1: none.
   */
  stopAt = -1;
  stopAtCycles = 0;
  /** Set by requestStop(): run() stops (kind 'requested') before the next instruction. */
  private stopRequested = false;
  constructor(mem: PhysicalMemory) {
    super(mem);
  }

  // ---- Architectural state ------------------------------------------------------------

  /** Sets CS (and with it the CPL) and SS for the ring the guest runs in. */
  setSegments(cs: number, ss: number, data = ss): void {
    this.sregs[CS] = cs;
    this.sregs[SS] = ss;
    this.sregs[DS] = this.sregs[ES] = this.sregs[4] = this.sregs[5] = data;
    this.setCpl(cs & 3);
  }

  state(): CpuState {
    return {
      regs: Array.from(this.regs, (r) => r >>> 0), eip: this.eip >>> 0, eflags: this.getFlags(),
      sregs: Array.from(this.sregs), cr0: this.cr0 >>> 0, cr2: this.cr2 >>> 0, cr3: this.cr3v, cr4: this.cr4 >>> 0,
      dr: Array.from(this.dr, (r) => r >>> 0), gdtr: { ...this.gdtr }, idtr: { ...this.idtr }, ldtr: this.ldtr, tr: this.tr,
      instructions: this.instructions, cycles: this.cycles,
    };
  }

  setState(s: CpuState): void {
    this.regs.set(s.regs.map((r) => r | 0));
    this.eip = s.eip >>> 0;
    this.setFlags(s.eflags);
    this.sregs.set(s.sregs);
    this.cr0 = s.cr0 | 0;
    this.cr2 = s.cr2 >>> 0;
    this.cr3 = s.cr3;
    this.cr4 = s.cr4 | 0;
    this.dr.set(s.dr.map((r) => r | 0));
    this.gdtr = { ...s.gdtr };
    this.idtr = { ...s.idtr };
    this.ldtr = s.ldtr;
    this.tr = s.tr;
    this.instructions = s.instructions;
    this.cycles = s.cycles;
    this.setCpl(this.sregs[CS] & 3);
    this.resumeAt = -1;
    this.lastInsn = null;
  }

  // ---- Snapshots ------------------------------------------------------------------------

  /** The whole machine (CPU and memory) as it is now. */
  snapshot(): Snapshot {
    return {
      cpu: this.state(),
      tlb: { tag: this.tlbTag.slice(), frame: this.tlbFrame.slice(), perm: this.tlbPerm.slice() },
      memory: this.mem.bytes.slice(),
    };
  }

  /** Puts the machine back as it was at `s`; running on from here repeats what followed. */
  restore(s: Snapshot): void {
    if (s.memory.length !== this.mem.bytes.length) throw new RangeError('snapshot of a machine with another memory size');
    this.mem.bytes.set(s.memory);
    for (let f = 0; f < this.mem.frames; f++) this.mem.markDirty(f);
    this.dropAllCode();
    this.setState(s.cpu);
    this.tlbTag.set(s.tlb.tag);
    this.tlbFrame.set(s.tlb.frame);
    this.tlbPerm.set(s.tlb.perm);
    this.tlbLow = 0; // the restored entries may hold any frame
    this.tlbHigh = this.mem.frames;
  }

  /**
   * For machine snapshots (snapshot.ts): the architectural state, the IDT gate levels the
   * hypervisor set and the TLB; not decoded code or compiled blocks (caches of memory,
   * dropped as memory is restored) nor breakpoints (the debugger's).
   */
  [SNAPSHOT](): () => void {
    const state = this.state();
    const gates = this.gateDpl.slice();
    const tag = this.tlbTag.slice(), frame = this.tlbFrame.slice(), perm = this.tlbPerm.slice();
    const low = this.tlbLow, high = this.tlbHigh, resumeAt = this.resumeAt;
    return () => {
      this.setState(state);
      this.gateDpl.set(gates);
      this.tlbTag.set(tag);
      this.tlbFrame.set(frame);
      this.tlbPerm.set(perm);
      this.tlbLow = low;
      this.tlbHigh = high;
      this.forgetWriteRights(); // the restored memory is clean: writes must mark it again
      this.resumeAt = resumeAt;
    };
  }

  /** FNV-1a over every architectural register, the TLB and memory: equal states, equal hashes. */
  stateHash(): number {
    let h = 0x811c9dc5;
    const word = (v: number) => {
      for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((v >>> (8 * k)) & 0xff), 0x01000193);
    };
    const s = this.state();
    for (const v of [...s.regs, s.eip, s.eflags, ...s.sregs, s.cr0, s.cr2, s.cr3, s.cr4, ...s.dr]) word(v);
    for (const v of [s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit, s.ldtr, s.tr, s.instructions, s.cycles]) word(v);
    for (let k = 0; k < TLB_SIZE; k++) if (this.tlbTag[k] !== -1) word(k), word(this.tlbTag[k]), word(this.tlbFrame[k]), word(this.tlbPerm[k]);
    const words = this.mem.words;
    for (let k = 0; k < words.length; k++) h = Math.imul(h ^ words[k], 0x01000193);
    return h >>> 0;
  }

  // ---- Running ---------------------------------------------------------------------------

  /**
   * Stops run() before the next instruction (after the one running, if any, completes):
   * a watched address was accessed, or the hypervisor saw something a debugger stops on.
   */
  requestStop(): void {
    this.stopRequested = true;
    this.fetchHasBreakpoint = true; // the per-instruction check below looks at it
    this.forgetFetch(); // a compiled block ends after the current instruction
  }

  protected override watchHit(): void {
    this.requestStop();
  }

  /** Going on from here runs the instruction at EIP even if it has a breakpoint (as after a breakpoint stop). */
  skipBreakpointHere(): void {
    this.resumeAt = this.eip >>> 0;
  }

  /** Whether a stop is requested and not yet taken. */
  get stopPending(): boolean {
    return this.stopRequested;
  }

  /** Whether the stop target is reached (see stopAt). */
  private atTarget(retired: number, cycles: number): boolean {
    return this.stopAt >= 0 && this.instructions + retired >= this.stopAt && cycles >= this.stopAtCycles;
  }

  /** Cycles to run before looking at the stop target again: at least one, at most to `limit`. */
  private targetEnd(retired: number, cycles: number, limit: number): number {
    return this.stopAt < 0 ? limit : Math.min(limit, cycles + Math.max(1, this.stopAt - this.instructions - retired));
  }

  protected override fetch(): Insn {
    const insn = super.fetch();
    if (this.stopRequested) this.fetchHasBreakpoint = true;
    return insn;
  }

  /**
   * Runs until `budget` cycles are used or something stops it. A breakpoint at the EIP the
   * previous run stopped on for that breakpoint does not stop it again.
   */
  run(budget: number): StopReason {
    const limit = this.cycles + Math.max(0, Math.floor(budget));
    if (this.stopRequested) {
      this.stopRequested = false;
      this.forgetFetch(); // the next fetch sets fetchHasBreakpoint for breakpoints alone again
      return REQUESTED_STOP;
    }
    if (this.atTarget(0, this.cycles)) return TARGET_STOP;
    // With a stop target, the budget ends at it (each instruction costs at least a cycle).
    let end = this.targetEnd(0, this.cycles, limit);
    const regs = this.regs;
    // EIP and the counters live in locals while instructions run inline, and are written
    // back before anything else looks at them (step(), a stop, a fault).
    let eip = this.eip;
    let cycles = this.cycles;
    let retired = 0;
    // The instruction run last and where it started: the next one is usually reached
    // through its links (fall-through, or a relative branch's target in the same page).
    let prev = this.lastInsn;
    let prevStart = this.lastStart;
    let gen = this.lastGen;
    this.lastInsn = null;
    let start = eip;
    let inStep = false;
    /** The compiled block running, if any (a fault inside it is located by blockAt). */
    let running: Block | null = null;
    // A breakpoint the previous run stopped at is passed over once; TF is only ever set
    // by the general interpreter, so it is read again after each step() only.
    let skip = this.resumeAt;
    this.resumeAt = -1;
    let tf = (this.fl & TF) !== 0;
    try {
     for (;;) {
      while (cycles < end) {
        start = eip;
        let insn: Insn;
        if (prev !== null && gen === this.codeGen && ((start ^ prevStart) >>> PAGE_SHIFT) === 0) {
          const fall = start === ((prevStart + prev.len) >>> 0);
          const jump = !fall && start === ((prevStart + prev.len + prev.rel) >>> 0);
          const link = fall ? prev.next : jump ? prev.jump : prev.dynAt === (start & PAGE_MASK) ? prev.dyn : null;
          if (link !== null) insn = link;
          else {
            this.eip = start;
            insn = this.fetch();
            gen = this.codeGen;
            if ((start & PAGE_MASK) + insn.len <= PAGE_SIZE) {
              if (fall) prev.next = insn;
              else if (jump) prev.jump = insn;
              else {
                prev.dynAt = start & PAGE_MASK;
                prev.dyn = insn;
              }
            }
          }
        } else {
          this.eip = start;
          insn = this.fetch();
          gen = this.codeGen;
        }
        prev = insn;
        prevStart = start;
        if (this.fetchHasBreakpoint) {
          if (this.stopRequested) {
            this.stopRequested = false;
            this.forgetFetch();
            this.eip = start;
            this.cycles = cycles;
            this.instructions += retired;
            return REQUESTED_STOP;
          }
          if (start !== skip && this.breakpoints.has(start)) {
            this.resumeAt = start;
            this.eip = start;
            this.cycles = cycles;
            this.instructions += retired;
            return { kind: 'breakpoint', address: start };
          }
        }
        skip = -1;
        if (insn.fast !== Fast.NONE && !tf && this.jit && !this.fetchHasBreakpoint) {
          let block = insn.block;
          if (block === null && ++insn.hits >= this.jitThreshold) block = insn.block = this.buildBlock(start, insn);
          if (block !== null && cycles + block.count <= end) {
            running = block;
            this.blockBase = 0;
            this.blockExtra = 0;
            this.blockCycles = cycles;
            this.blockInstructions = this.instructions + retired;
            const to = block.run(this, regs, start, end - cycles);
            running = null;
            const n = this.blockDone;
            retired += n;
            cycles += n + this.blockExtra;
            eip = to;
            tf = (this.fl & TF) !== 0; // a hypercall in the block may have set it
            if (this.blockStop !== null) {
              const stop = this.blockStop;
              this.blockStop = null;
              this.eip = eip;
              this.cycles = cycles;
              this.instructions += retired;
              return stop;
            }
            // Go on through the last instruction's links, unless the block stopped early.
            if (n % block.count === 0) {
              prev = block.last;
              prevStart = (start + block.offsets[n - 1]) >>> 0;
            } else prev = null;
            continue;
          }
        }
        if (insn.fast !== Fast.NONE && !tf) {
          // The commonest forms, inline (same semantics as step()).
          const i = insn;
          let next = (start + i.len) >>> 0;
          switch (i.fast) {
            case Fast.MOV_RR: regs[i.r0] = regs[i.r1]; break;
            case Fast.MOV_RI: regs[i.r0] = i.imm; break;
            case Fast.MOV_RM: regs[i.r0] = this.read32(this.ea(i)); break;
            case Fast.MOV_MR: this.write32(this.ea(i), regs[i.r1]); break;
            case Fast.MOV_MI: this.write32(this.ea(i), i.imm); break;
            case Fast.ALU_RR: {
              const r = this.alu32(i.sub, regs[i.r0] >>> 0, regs[i.r1] >>> 0);
              if (i.sub !== ALU_CMP) regs[i.r0] = r;
              break;
            }
            case Fast.ALU_RI: {
              const r = this.alu32(i.sub, regs[i.r0] >>> 0, i.imm);
              if (i.sub !== ALU_CMP) regs[i.r0] = r;
              break;
            }
            case Fast.ALU_RM: {
              const r = this.alu32(i.sub, regs[i.r0] >>> 0, this.read32(this.ea(i)));
              if (i.sub !== ALU_CMP) regs[i.r0] = r;
              break;
            }
            case Fast.ALU_MR: case Fast.ALU_MI: {
              const ea = this.ea(i);
              if (i.sub !== ALU_CMP) this.checkRmw(i, ea);
              const r = this.alu32(i.sub, this.read32(ea), i.fast === Fast.ALU_MR ? regs[i.r1] >>> 0 : i.imm);
              if (i.sub !== ALU_CMP) this.write32(ea, r);
              break;
            }
            case Fast.TEST_RR: this.logic((regs[i.r0] & regs[i.r1]) >>> 0, 4); break;
            case Fast.TEST_RI: this.logic((regs[i.r0] & i.imm) >>> 0, 4); break;
            case Fast.INC_R: regs[i.r0] = this.incDec32(regs[i.r0] >>> 0, true); break;
            case Fast.DEC_R: regs[i.r0] = this.incDec32(regs[i.r0] >>> 0, false); break;
            case Fast.LEA: regs[i.r0] = this.ea(i); break;
            case Fast.JCC: if (this.cond(i.cc)) next = (next + i.rel) >>> 0; break;
            case Fast.JMP: next = (next + i.rel) >>> 0; break;
            case Fast.CALL: {
              const sp = (regs[ESP] - 4) >>> 0;
              this.write32(sp, next);
              regs[ESP] = sp;
              next = (next + i.rel) >>> 0;
              break;
            }
            case Fast.RET: {
              const sp = regs[ESP] >>> 0;
              next = this.read32(sp);
              regs[ESP] = sp + 4;
              break;
            }
            case Fast.PUSH_R: case Fast.PUSH_I: {
              const v = i.fast === Fast.PUSH_R ? regs[i.r0] : i.imm;
              const sp = (regs[ESP] - 4) >>> 0;
              this.write32(sp, v);
              regs[ESP] = sp;
              break;
            }
            case Fast.POP_R: {
              const sp = regs[ESP] >>> 0;
              const v = this.read32(sp);
              regs[ESP] = sp + 4;
              regs[i.r0] = v;
              break;
            }
            case Fast.SHIFT_RI: regs[i.r0] = this.shift32(i.sub, regs[i.r0] >>> 0, i.imm); break;
          }
          eip = next;
          retired++;
          cycles++;
          continue;
        }
        // Everything else: the general interpreter, which keeps EIP and the counters itself.
        this.eip = start;
        this.cycles = cycles;
        this.instructions += retired;
        retired = 0;
        inStep = true;
        const stop = this.step(insn, end);
        inStep = false;
        eip = this.eip;
        cycles = this.cycles;
        if (stop !== null) {
          this.lastInsn = insn;
          this.lastStart = start;
          this.lastGen = gen;
          return stop;
        }
        if (tf) return this.exception(DB, -1, true);
        tf = (this.fl & TF) !== 0;
      }
      // The budget ran out: at the stop target, or short of it where a hypercall cost more than a cycle.
      if (this.stopAt < 0) break;
      if (this.atTarget(retired, cycles)) {
        this.eip = eip;
        this.cycles = cycles;
        this.instructions += retired;
        return TARGET_STOP;
      }
      if (cycles >= limit) break;
      end = this.targetEnd(retired, cycles, limit);
     }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      if (running !== null) {
        // Instructions before the faulting one completed.
        start = (start + running.offsets[this.blockAt]) >>> 0;
        retired += this.blockBase + this.blockAt;
        cycles += this.blockBase + this.blockAt + this.blockExtra;
      }
      this.eip = start;
      if (!inStep) {
        this.cycles = cycles;
        this.instructions += retired;
      }
      this.resumeAt = -1;
      return this.exception(e.vector, e.errorCode, false);
    }
    this.eip = eip;
    this.cycles = cycles;
    this.instructions += retired;
    return BUDGET_STOP;
  }

  /**
   * `int 0x82` inside a compiled block, `done` of whose instructions (the int included)
   * have completed: the gate check, then the hypercall handler, which sees EIP and the
   * counters as the interpreter would show them. Returns the cycles the hypervisor
   * charged, or -1 when the block must end here: the handler changed EIP, the code
   * mappings or the flags, or asked run() to stop (blockStop), or there is no handler.
   */
  blockHypercall(done: number, next: number): number {
    // Small, so that V8 can inline it and the handler into the block (the rare cases are apart).
    const handler = this.hypercallHandler;
    if (handler === null || this.gateDpl[Imm.HypercallVector] < this.cpl) return this.blockHypercallRefused(next);
    const before = this.blockCycles + this.blockExtra + done;
    const instructions = this.instructions;
    const gen = this.codeGen, flags = this.flagWrites;
    this.eip = next;
    this.cycles = before;
    this.instructions = this.blockInstructions + done;
    const go = handler();
    const extra = this.cycles - before;
    this.blockExtra += extra;
    this.instructions = instructions;
    // The block goes on only if nothing it assumed changed: EIP, the code, and the flags it
    // stored (iret may set them, TF included; blocks run only with TF clear).
    if (go && this.eip === next && this.codeGen === gen && this.flagWrites === flags) return extra;
    if (!go) this.blockStop = HYPERCALL_HANDLED_STOP;
    return -1;
  }

  /** `int 0x82` in a block through a gate of a more privileged level (#GP), or with no handler (run() stops for it). */
  private blockHypercallRefused(next: number): number {
    if (this.gateDpl[HYPERCALL_VECTOR] < this.cpl) throw new CpuFault(GP, (HYPERCALL_VECTOR << 3) | 2);
    this.eip = next;
    this.blockStop = HYPERCALL_STOP;
    return -1;
  }

  /**
   * A block of the instructions from `insn` (at linear `start`) on: consecutive, with
   * fast paths, in one page, up to the first branch. Null when it would be one instruction.
   */
  private buildBlock(start: number, insn: Insn): Block | null {
    const items: BlockItem[] = [{ insn, offset: 0, follow: false }];
    const seen = new Set<number>([start]);
    // Stack words pushed since the block's start (NaN once ESP is written otherwise), and
    // the calls followed into, so that a ret to one of them can be followed back.
    let depth = 0;
    const calls: { returnTo: number; depth: number }[] = [];
    let at = start;
    let cur = insn;
    while (items.length < MAX_BLOCK) {
      let to = (at + cur.len) >>> 0;
      const f = cur.fast;
      if (f === Fast.PUSH_R || f === Fast.PUSH_I) depth++;
      else if (f === Fast.POP_R) depth = cur.r0 === ESP ? NaN : depth - 1;
      else if (f !== Fast.CALL && f !== Fast.RET && cur.k0 === K_REG && cur.r0 === ESP) depth = NaN;
      if (endsBlock(cur)) {
        if (f === Fast.RET) {
          // Back to the instruction after a call this block followed, if the stack is as
          // that call left it (checked again when it runs: the return address may differ).
          const top = calls.pop();
          if (top === undefined || top.depth !== depth) break;
          depth--;
          to = top.returnTo;
        } else {
          // A direct jmp or call to the same page: the block goes on there.
          const target = (to + cur.rel) >>> 0;
          if ((f !== Fast.JMP && f !== Fast.CALL) || (target ^ start) >>> PAGE_SHIFT !== 0 || seen.has(target)) break;
          if (f === Fast.CALL) {
            depth++;
            calls.push({ returnTo: to, depth });
          }
          to = target;
        }
        items[items.length - 1].follow = true;
      }
      at = to;
      if ((at ^ start) >>> PAGE_SHIFT !== 0) break;
      const page = this.code.get((this.fetchBase + (at & PAGE_MASK)) >>> PAGE_SHIFT);
      let next = page?.[at & PAGE_MASK];
      if (next === undefined) {
        try {
          const saved = this.eip;
          this.eip = at;
          next = this.fetch();
          this.eip = saved;
        } catch (e) {
          if (e instanceof CpuFault) break; // undecodable or unmapped: the interpreter will say so
          throw e;
        }
        if ((at & PAGE_MASK) + next.len > PAGE_SIZE) break;
      }
      if (!blockable(next)) break;
      if (seen.has(at) && cur.fast !== Fast.RET) break;
      seen.add(at);
      items.push({ insn: next, offset: (at - start) | 0, follow: false });
      cur = next;
    }
    // A followed jmp/call at the end would leave the block without a way out.
    const last = items[items.length - 1];
    if (last.follow) last.follow = false;
    return items.length > 1 || endsBlock(insn) ? compileBlock(items) : null;
  }

}

const PAGE_SIZE = 1 << PAGE_SHIFT;

/**
 * Immediates for blockHypercall, which V8 inlines into compiled blocks: a module constant
 * would be a load and a check there (see xen/hypercalls.ts's Nr). Checked at load.
 */
const enum Imm { HypercallVector = 0x82 }
if (Imm.HypercallVector !== HYPERCALL_VECTOR) throw new Error('cpu.ts: Imm is out of step');

