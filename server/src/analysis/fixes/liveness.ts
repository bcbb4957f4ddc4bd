// Which registers and whether the status flags are still read after a point of the
// program, before anything writes them: what a fix may clobber there. Paths are followed
// through branches, into called functions and back to the instruction after the call; a
// return to an unknown caller, an indirect jump or call, or running out of work counts as
// reading everything still pending (a fix is then not offered).

import { CONDITIONS, xenConstant } from '../../../../isa/src/index.js';
import type { Context } from '../context.js';
import { EAX, EBX, ESP, gpr } from '../effects.js';
import { ARG_REGS, argumentsRead } from '../hypercalls.js';
import type { Instr } from '../program.js';

export interface Live {
  /** The pending registers some path reads (bit per register number). */
  regs: number;
  /** Some path reads the status flags before setting them. */
  flags: boolean;
}

const MAX_STEPS = 20_000;
const MAX_DEPTH = 8;

// The status flags, one bit each.
const CF = 1, PF = 2, AF = 4, ZF = 8, SF = 16, OF = 32;
const ALL_FLAGS = CF | PF | AF | ZF | SF | OF;

/** The flags each condition code tests. */
const CC_READS: Readonly<Record<string, number>> = {
  o: OF, no: OF, b: CF, ae: CF, e: ZF, ne: ZF, be: CF | ZF, a: CF | ZF, s: SF, ns: SF, p: PF, np: PF,
  l: SF | OF, ge: SF | OF, le: ZF | SF | OF, g: ZF | SF | OF,
};
/** Flags read by instructions without a condition code in their form. */
const READS: Readonly<Record<string, number>> = {
  adc: CF, sbb: CF, rcl: CF, rcr: CF, cmc: CF, salc: CF, into: OF, daa: CF | AF, das: CF | AF, aaa: AF, aas: AF,
  loope: ZF, loopz: ZF, loopne: ZF, loopnz: ZF, pushf: ALL_FLAGS, pushfd: ALL_FLAGS, pushfw: ALL_FLAGS, lahf: ALL_FLAGS & ~OF,
};
/** Flag-setting instructions that write only some flags (the rest keep their values). */
const WRITES: Readonly<Record<string, number>> = {
  inc: ALL_FLAGS & ~CF, dec: ALL_FLAGS & ~CF, bt: CF, bts: CF, btr: CF, btc: CF, rol: CF | OF, ror: CF | OF, rcl: CF | OF,
  rcr: CF | OF, cmc: CF, clc: CF, stc: CF, bsf: ZF, bsr: ZF, div: 0, idiv: 0,
};
const SHIFTS = new Set(['shl', 'sal', 'shr', 'sar', 'shld', 'shrd']);

/** The status flags an instruction reads. */
function flagReads(ins: Instr): number {
  const cc = ins.insn.form.cc;
  return cc >= 0 ? CC_READS[CONDITIONS[cc].name] ?? ALL_FLAGS : READS[ins.mnemonic] ?? 0;
}

/** The status flags an instruction overwrites (so the values before it are dead). */
function flagWrites(ins: Instr): number {
  const m = ins.mnemonic;
  if (m in WRITES) return WRITES[m];
  if (!ins.fx.setsFlags) return m === 'popf' || m === 'popfd' || m === 'popfw' || m === 'sahf' ? ALL_FLAGS & (m === 'sahf' ? ~OF : ALL_FLAGS) : 0;
  if (SHIFTS.has(m)) {
    // by a count of 0 a shift changes nothing
    const count = ins.insn.operands[ins.insn.operands.length - 1];
    return count?.type === 'imm' && (count.value & 31) !== 0 ? ALL_FLAGS : 0;
  }
  return ALL_FLAGS;
}

/** The 32-bit registers an instruction overwrites whole (so their earlier values are dead). */
function killed(ins: Instr): number {
  let mask = ins.hypercall ? 1 << EAX : 0;
  const op = ins.insn.operands[0];
  if (op?.type === 'reg' && op.reg.cls === 'r32' && ins.fx.writes & (1 << gpr(op.reg))) mask |= 1 << gpr(op.reg);
  return mask;
}

/** The registers a hypercall reads: eax for int 0x82, and its arguments (all five when it is not known). */
export function hypercallReads(ctx: Context, i: number): number {
  const site = ctx.siteAt.get(i);
  let mask = site?.via === 'int' ? 1 << EAX : 0;
  if (!site?.hypercall) return mask | ARG_REGS.reduce((m, r) => m | (1 << r), 0);
  const ebx = site.state?.regs[EBX];
  const n = argumentsRead(site.hypercall, typeof ebx === 'number' ? ebx : null);
  for (let k = 0; k < n; k++) mask |= 1 << ARG_REGS[k];
  return mask;
}

/**
 * What is read of `regs` and the flags from instruction `from` on (before it runs). A
 * return from the function the walk started in goes on after each call of it when only
 * calls enter it; with `returns: 'read'` such a return counts as reading everything.
 */
export function liveAt(ctx: Context, from: number, regs: number, flags: boolean, returns: 'callers' | 'read' = 'callers'): Live {
  return walk(ctx, [from], regs, flags ? ALL_FLAGS : 0, returns);
}

/** What is read of `regs` and the flags after instruction `at` (on every way control leaves it). */
export function liveAfter(ctx: Context, at: number, regs: number, flags: boolean): Live {
  const next = successors(ctx, at);
  if (next === null) return { regs, flags };
  return walk(ctx, next, regs, flags ? ALL_FLAGS : 0, 'callers');
}

/** Where a return from the function(s) holding block b goes: after each call, when only calls enter them (else null). */
function returnPoints(ctx: Context, b: number): number[] | null {
  const { cfg } = ctx;
  const out: number[] = [];
  for (const f of cfg.functionsOf[b]) {
    const fn = cfg.functions[f];
    if (cfg.roots.get(fn.entry) !== 'function') return null;
    for (const c of fn.callers) {
      const back = cfg.blocks[c].succ.find((e) => e.kind === 'return');
      if (back) out.push(cfg.blocks[back.to].first);
    }
  }
  return cfg.functionsOf[b].length ? out : null;
}

interface Item {
  i: number;
  regs: number;
  /** The flags still pending (bit per flag). */
  flags: number;
  /** Instructions to go on at after a return, innermost last. */
  ret: readonly number[];
}

/**
 * `push r` at instruction i and the `pop r` that takes that word back in the same block,
 * with only pushes and pops between (nothing else touches the stack): r's register and
 * the pop's index; else null.
 */
function savedUntil(ctx: Context, i: number): { reg: number; pop: number } | null {
  const { program, cfg } = ctx;
  const op = program.instrs[i].insn.operands[0];
  if (op?.type !== 'reg' || op.reg.cls !== 'r32') return null;
  const reg = gpr(op.reg);
  let depth = 1;
  for (let k = i + 1; k <= cfg.blocks[cfg.blockOf[i]].last; k++) {
    const ins = program.instrs[k];
    if (ins.mnemonic === 'push') depth++;
    else if (ins.mnemonic === 'pop') {
      if (--depth === 0) {
        const o = ins.insn.operands[0];
        return o?.type === 'reg' && o.reg.cls === 'r32' && gpr(o.reg) === reg && k + 1 <= cfg.blocks[cfg.blockOf[i]].last ? { reg, pop: k } : null;
      }
    } else if (ins.fx.writes & (1 << ESP) || ins.insn.operands.some((o) => o.type === 'mem' && o.base?.name === 'esp')) return null;
  }
  return null;
}

const SHUTDOWN = xenConstant('SCHEDOP_shutdown')?.value;

/** sched_op(SCHEDOP_shutdown) at instruction i: the domain ends there. */
function shutsDown(ctx: Context, i: number): boolean {
  const site = ctx.siteAt.get(i);
  const name = site?.hypercall?.name;
  return (name === 'sched_op' || name === 'sched_op_compat') && site?.state?.regs[EBX] === SHUTDOWN;
}

/** The instructions control can reach next within the function (null: not known). */
function successors(ctx: Context, i: number): number[] | null {
  const { program, cfg } = ctx;
  const ins = program.instrs[i];
  const blk = cfg.blocks[cfg.blockOf[i]];
  if (i < blk.last) return [i + 1];
  const f = ins.flow;
  if (f.kind === 'stop') return [];
  if (f.kind === 'return' || (f.kind === 'jump' && (f.target === null || ins.hypercall))) return null;
  if (f.kind === 'call' && blk.unknownCall) return null;
  return blk.succ.filter((e) => e.kind !== 'call' && e.kind !== 'return').map((e) => cfg.blocks[e.to].first);
}

function walk(ctx: Context, starts: readonly number[], regs: number, flags: number, returns: 'callers' | 'read'): Live {
  const { program, cfg } = ctx;
  const out: Live = { regs: 0, flags: false };
  const seen = new Map<string, { regs: number; flags: number }>();
  const work: Item[] = starts.map((i) => ({ i, regs, flags, ret: [] }));
  const all = (r: number, f: number) => {
    out.regs |= r;
    out.flags ||= f !== 0;
  };
  for (let steps = 0; work.length; steps++) {
    const it = work.pop()!;
    if (steps > MAX_STEPS) {
      all(it.regs, it.flags);
      continue;
    }
    let { regs: pr, flags: pf } = it;
    if (!pr && !pf) continue;
    const key = `${it.i}|${it.ret.join(',')}`;
    const was = seen.get(key);
    if (was && (pr & ~was.regs) === 0 && (pf & ~was.flags) === 0) continue;
    seen.set(key, { regs: (was?.regs ?? 0) | pr, flags: (was?.flags ?? 0) | pf });
    const ins = program.instrs[it.i];
    let reads = ins.fx.reads | (ins.hypercall ? hypercallReads(ctx, it.i) : 0);
    // push r ... pop r saves r and puts it back: r is read there only if it is read after the pop
    const saved = ins.mnemonic === 'push' ? savedUntil(ctx, it.i) : null;
    if (saved && pr & (1 << saved.reg)) {
      reads &= ~(1 << saved.reg);
      work.push({ i: saved.pop + 1, regs: 1 << saved.reg, flags: 0, ret: it.ret });
    }
    out.regs |= reads & pr;
    pr &= ~reads;
    const fr = flagReads(ins) & pf;
    if (fr) {
      out.flags = true;
      pf &= ~fr;
    }
    pr &= ~killed(ins);
    pf &= ~flagWrites(ins);
    if (!pr && !pf) continue;
    // a shutdown does not come back: nothing after it reads anything
    if (ins.hypercall && shutsDown(ctx, it.i)) continue;
    const blk = cfg.blocks[cfg.blockOf[it.i]];
    const f = ins.flow;
    if (it.i === blk.last && f.kind === 'call' && !ins.hypercall) {
      // into the callee, and back after it
      const callee = blk.succ.find((e) => e.kind === 'call');
      const back = blk.succ.find((e) => e.kind === 'return');
      if (!callee || !back || it.ret.length >= MAX_DEPTH) {
        all(pr, pf);
        continue;
      }
      work.push({ i: cfg.blocks[callee.to].first, regs: pr, flags: pf, ret: [...it.ret, cfg.blocks[back.to].first] });
      continue;
    }
    if (it.i === blk.last && f.kind === 'return') {
      if (it.ret.length) {
        work.push({ i: it.ret[it.ret.length - 1], regs: pr, flags: pf, ret: it.ret.slice(0, -1) });
        continue;
      }
      const to = returns === 'callers' ? returnPoints(ctx, blk.id) : null;
      if (to === null) all(pr, pf);
      else for (const n of to) work.push({ i: n, regs: pr, flags: pf, ret: [] });
      continue;
    }
    const next = successors(ctx, it.i);
    if (next === null) {
      all(pr, pf);
      continue;
    }
    for (const n of next) work.push({ i: n, regs: pr, flags: pf, ret: it.ret });
  }
  return out;
}

/** The condition of a conditional jump (`ne`, `s`, ...), or null. */
export function conditionOf(ins: Instr): string | null {
  return ins.flow.kind === 'branch' && ins.insn.form.cc >= 0 ? CONDITIONS[ins.insn.form.cc].name : null;
}
