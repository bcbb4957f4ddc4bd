// Quick fixes for unbatched page-table writes.
//
// Single-entry mmu_update calls, in a loop (directly, from a macro, or in a function only
// that loop calls) or one after the other in straight-line code, become *queueing*: the
// line that made the call instead copies its request(s) from [ebx] into an array of
// `struct mmu_update` (set up by the fix), and after the loop (or in place of the last
// call) one mmu_update of the whole array is made and its success count checked. The
// requests are copied when the call would have been made, so however the code computed
// them stays as it was. What the replaced line left in registers (the set-up of ebx, ecx,
// edx, esi and eax's success value 0) is put back where it is still read, so the code
// around it runs as before; the failure checks of the old calls (test eax / jnz) are never
// taken any more, and the batch's failure goes to the same place they went, when that path
// reads nothing but eax and never returns, else to a stub label the fix creates (`ud2`
// until the user writes it).
//
// Not offered where the rewrite could change what the program does: any other hypercall
// in the loop or what it calls (a flush, a pin, a print: its order against the updates
// would change), exits other than one way out and the old calls' failure checks, returns,
// indirect jumps or calls, callees that may not come back, recursion into the loop, a
// `pdone` pointer (edx) or a foreign domain that is not a constant, set-up lines that do
// more than set registers to constants, flags or registers that are read after the place
// the fix clobbers them, addresses without a label (they would go stale as code moves).
// Updates take effect after the loop: a loop that may use memory through the mappings it
// changes (a string instruction, an address that is not a constant, other than the stack)
// cannot be batched, by this fix or by hand.
//
// The array holds the loop's trip count (tripcount.ts) times the entries per iteration
// when that is known and at most QUEUE_ENTRIES; otherwise it holds QUEUE_ENTRIES and the
// queueing code flushes it when full (which needs the flags free after the call).
//
// update_va_mapping calls with constant arguments, one after the other with only their
// argument set-up between them, become one multicall.

import { xenConstant, xenStruct } from '../../../../isa/src/index.js';
import { calledFrom, type Edge, type Loop } from '../cfg.js';
import { hex, type Context } from '../context.js';
import { EAX, EBX, ECX, EDX, ESI, ESP, GPR_NAMES } from '../effects.js';
import { singleEntryCount, usesMappedMemory, type HypercallSite } from '../hypercalls.js';
import type { Instr } from '../program.js';
import { lineOf } from '../text.js';
import { runsOf, type TripCount } from '../tripcount.js';
import type { Fix, TextEdit } from '../types.js';
import {
  appendData, appendSections, fullLabelName, insertAfterLine, insertBefore, Names, replaceEdit, sectionAt, uniqueLabel, valueText, writtenConstant,
} from './edit.js';
import { conditionOf, liveAfter, liveAt } from './liveness.js';

/** Bytes of one `struct mmu_update` request ({u64 ptr; u64 val}). */
const REQUEST = xenStruct('mmu_update')?.size ?? 16;
const REQUEST_SHIFT = Math.log2(REQUEST);
/** Most requests a fix's array holds: XenoLinux's update queue (the simulated Xen takes batches up to 4096). */
export const QUEUE_ENTRIES = 2048;

const bit = (r: number) => 1 << r;
/** Registers a hypercall's argument set-up may write. */
const SETUP = bit(EAX) | bit(EBX) | bit(ECX) | bit(EDX) | bit(ESI);
/** Not a register: a path that returns to code the walk does not know (liveness.ts never clears it). */
const RETURNS = 1 << 8;

/** `mov r32, imm` or `xor r32, r32` of a register in `mask`: sets a register to a constant, nothing else. */
function isConstSetup(ins: Instr, mask: number): boolean {
  const ops = ins.insn.operands;
  if (!(ins.mnemonic === 'mov' || ins.mnemonic === 'xor') || ops[0]?.type !== 'reg' || ops[0].reg.cls !== 'r32') return false;
  if (!(mask & bit(ops[0].reg.num))) return false;
  if (ins.mnemonic === 'xor') return ops[1]?.type === 'reg' && ops[1].reg === ops[0].reg;
  return ops[1]?.type === 'imm';
}

// ---------------------------------------------------------------------------------------
// The line that makes a call

interface CallLine {
  site: HypercallSite;
  /** Requests per call (ecx). */
  count: number;
  /** The foreign domain (esi). */
  foreign: number;
  /** Root-file offsets of the text replaced (the statement, or the macro call; not a label before it). */
  start: number;
  end: number;
  /** Its instructions. */
  first: number;
  last: number;
  /** Registers its set-up writes before the hypercall. */
  setup: number;
  /** Some instruction of it sets the status flags. */
  setsFlags: boolean;
  /** Where a failure of the call goes (the target of a test of eax just after it), or -1. */
  fail: number;
}

const sameSpan = (a: Instr['user'], b: Instr['user']) => a === b || (a.file === b.file && a.start === b.start && a.end === b.end);
const spanKey = (s: Instr['user']) => `${s.file}:${s.start}:${s.end}`;

/** Per analysis: how many separate runs of instructions each place of the analysed file made. */
const RUNS = new WeakMap<Context, Map<string, number>>();

/**
 * The instructions that the line (statement or macro call) of instruction i made, when
 * that text made no code elsewhere (a %rep body or a macro called in one does: editing it
 * would change every copy).
 */
function lineRun(ctx: Context, i: number): { first: number; last: number } | null {
  const instrs = ctx.program.instrs;
  let runs = RUNS.get(ctx);
  if (!runs) {
    runs = new Map();
    for (let k = 0; k < instrs.length; k++) {
      if (k > 0 && sameSpan(instrs[k - 1].user, instrs[k].user)) continue;
      const key = spanKey(instrs[k].user);
      runs.set(key, (runs.get(key) ?? 0) + 1);
    }
    RUNS.set(ctx, runs);
  }
  const user = instrs[i].user;
  if (runs.get(spanKey(user)) !== 1) return null;
  let first = i;
  while (first > 0 && sameSpan(instrs[first - 1].user, user)) first--;
  let last = i;
  while (last + 1 < instrs.length && sameSpan(instrs[last + 1].user, user)) last++;
  return { first, last };
}

/**
 * The line of the analysed file that makes a single-entry mmu_update (an `int 0x82`, a
 * HYPERCALL or HYPERCALL_PAGE_CALL line, a macro of the user's), when all it does is set
 * argument registers to constants, make the call, and perhaps test its result.
 */
function callLine(ctx: Context, site: HypercallSite): CallLine | null {
  const { program, cfg } = ctx;
  const instrs = program.instrs;
  if (site.hypercall?.name !== 'mmu_update' || site.via === 'page-jump' || !site.state) return null;
  const count = singleEntryCount(site);
  const regs = site.state.regs;
  if (count === null || regs[EDX] !== 0 || typeof regs[ESI] !== 'number') return null;
  const ins = instrs[site.instr];
  const user = ins.user;
  if (user.file !== 0 || ins.tainted || ins.line.node.statement?.kind === 'times') return null;
  if (ins.line.stack.some((f) => f.kind === 'include')) return null;
  const run = lineRun(ctx, site.instr);
  if (!run) return null;
  const { first, last } = run;
  // one piece of straight-line code: nothing jumps into the middle of it
  for (let i = first + 1; i <= last; i++) {
    const b = cfg.blocks[cfg.blockOf[i]];
    if (b.first === i && (b.pred.length !== 1 || b.pred[0].kind !== 'fall' || cfg.roots.has(b.id))) return null;
  }
  let setup = 0;
  let setsFlags = false;
  for (let i = first; i < site.instr; i++) {
    if (!isConstSetup(instrs[i], SETUP)) return null;
    setup |= instrs[i].fx.writes;
    setsFlags ||= instrs[i].fx.setsFlags;
  }
  let fail = -1;
  if (last > site.instr) {
    const check = failureCheck(ctx, site.instr, site.instr + 1);
    if (!check || check.jcc !== last) return null;
    fail = check.target;
    setsFlags = true;
  } else if (last + 1 < instrs.length) {
    fail = failureCheck(ctx, site.instr, last + 1)?.target ?? -1;
  }
  const st = ins.line.stack.length ? ins.line.stack[0].span : ins.statement;
  return { site, count, foreign: regs[ESI] as number, start: st.start, end: st.end, first, last, setup, setsFlags, fail };
}

/**
 * A test of the hypercall's result at instruction i (`test eax, eax` / `or` / `and` /
 * `cmp eax, 0`) and a jump when it is an error (jne, js, jl): the jump's target. Never
 * taken once the call is queued (eax is then 0).
 */
function failureCheck(ctx: Context, siteIdx: number, i: number): { jcc: number; target: number } | null {
  const { program, cfg, df } = ctx;
  const test = program.instrs[i];
  const jcc = program.instrs[i + 1];
  if (!test || !jcc || cfg.blockOf[i] !== cfg.blockOf[i + 1]) return null;
  const ops = test.insn.operands;
  const isEax = (k: number) => ops[k]?.type === 'reg' && ops[k].reg.cls === 'r32' && ops[k].reg.num === EAX;
  const zeroTest = ((test.mnemonic === 'test' || test.mnemonic === 'or' || test.mnemonic === 'and') && isEax(0) && isEax(1)) ||
    (test.mnemonic === 'cmp' && isEax(0) && ops[1]?.type === 'imm' && ops[1].value === 0);
  if (!zeroTest || df.before(i)?.def[EAX] !== siteIdx) return null;
  const cc = conditionOf(jcc);
  if (cc !== 'ne' && cc !== 's' && cc !== 'l') return null;
  const target = program.byAddress.get((jcc.flow as { target: number }).target);
  return target === undefined ? null : { jcc: i + 1, target };
}

/**
 * The label of a failure path the batch may jump to as well: it reads no register but
 * eax (the error) before setting it, nor the flags, and never returns (the stack it finds
 * is not the one the old check had).
 */
function failLabel(ctx: Context, target: number): string | null {
  if (target < 0) return null;
  const ins = ctx.program.instrs[target];
  const name = (ctx.program.labelsAt.get(ins.address) ?? []).map((s) => s.name).find((n) => !n.startsWith('..@'));
  if (!name) return null;
  const live = liveAt(ctx, target, (0xff & ~(bit(EAX) | bit(ESP))) | RETURNS, true, 'read');
  return live.regs === 0 && !live.flags ? name : null;
}

// ---------------------------------------------------------------------------------------
// The code a fix writes

interface Batch {
  n: Names;
  /** The request array; its `_used` (bytes queued) and `_done` (Xen's success count) words. */
  name: string;
  foreign: string;
  capacity: number;
  fail: string;
}

/**
 * The replacement of a call line: the registers it set that are still read, then its
 * requests appended to the array (flushing it first when `bounded` and full).
 */
function queueLines(ctx: Context, b: Batch, line: CallLine, bounded: boolean): string[] | null {
  const regs = line.site.state!.regs;
  const live = liveAfter(ctx, line.last, line.setup & ~bit(EAX), false).regs | (line.setup & bit(EBX));
  const out = [`; xenolab: queue the ${line.count === 1 ? 'request' : `${line.count} requests`} at [ebx] in ${b.name} instead of calling mmu_update`];
  for (const r of [EBX, ECX, EDX, ESI]) {
    if (!(live & bit(r))) continue;
    const v = regs[r];
    const text = r === ESI ? b.foreign : typeof v === 'number' ? valueText(ctx, v) : null;
    if (text === null) return null;
    out.push(`mov ${GPR_NAMES[r]}, ${text}`);
  }
  const bytes = line.count * REQUEST;
  if (bounded) {
    const room = `..@${b.name}_room_${lineOf(ctx.program.files[0], line.start) + 1}`;
    out.push(`cmp dword [${b.name}_used], ${(b.capacity - line.count) * REQUEST} ; room for ${line.count} more?`, `jbe ${room}`,
      ...flushLines(b, `${room}_flushed`), `${room}:`);
  }
  out.push('push edx', `mov eax, [${b.name}_used]`);
  for (let k = 0; k < bytes; k += 4) {
    const off = k ? ` + ${k}` : '';
    out.push(`mov edx, [ebx${off}]`, `mov [${b.name} + eax${off}], edx`);
  }
  out.push('pop edx', `lea eax, [eax + ${bytes}]`, `mov [${b.name}_used], eax`, 'mov eax, 0 ; what mmu_update returns when it succeeds');
  return out;
}

/**
 * One mmu_update of what the array holds (none when it is empty), its success count
 * checked; ebx, ecx, edx, esi kept, eax the result, the flags changed.
 */
function flushLines(b: Batch, empty: string): string[] {
  return [
    'push ebx', 'push ecx', 'push edx', 'push esi',
    `mov ecx, [${b.name}_used]`,
    `shr ecx, ${REQUEST_SHIFT} ; the requests queued (${REQUEST} bytes each)`,
    `jz ${empty}`,
    `mov dword [${b.name}_done], 0`,
    `mov ebx, ${b.name} ; mmu_update(reqs, count, done, domid): all of them in one call`,
    `mov edx, ${b.name}_done`,
    `mov esi, ${b.foreign}`,
    ...b.n.hypercall('mmu_update'),
    `mov ecx, [${b.name}_used] ; the count again: Xen may overwrite the argument registers`,
    `shr ecx, ${REQUEST_SHIFT}`,
    `mov dword [${b.name}_used], 0`,
    `cmp [${b.name}_done], ecx ; did Xen do every request?`,
    `${empty}:`,
    'pop esi', 'pop edx', 'pop ecx', 'pop ebx',
    `jne ${b.fail}`,
  ];
}

/** The array and its two words (and the failure stub when the batch has no failure path to reuse). */
function batchData(ctx: Context, b: Batch, what: string, codeSection: string | null): TextEdit {
  const root = ctx.program.files[0];
  const blocks = [
    { section: '.bss', align: 'alignb 8', lines: [`${b.name}: resb ${b.capacity} * ${b.n.size('mmu_update', REQUEST)} ; struct mmu_update {u64 ptr; u64 val} [${b.capacity}]: ${what}`] },
    { section: '.data', align: 'align 4', lines: [`${b.name}_used: dd 0 ; bytes of ${b.name} in use`, `${b.name}_done: dd 0 ; requests Xen did (mmu_update's done count)`] },
  ];
  if (b.fail === `${b.name}_failed`) {
    blocks.push({ section: codeSection ?? '.text', align: '', lines: [
      `${b.fail}: ; TODO: the batched mmu_update failed: eax holds the error, [${b.name}_done] the requests done before the failing one`,
      '    ud2',
    ] });
  }
  return appendSections(root, blocks);
}

function newBatch(ctx: Context, line: CallLine, capacity: number, failTarget: number): Batch {
  const n = new Names(ctx);
  const name = uniqueLabel(ctx, `xenolab_batch_${lineOf(ctx.program.files[0], line.start) + 1}`);
  return { n, name, foreign: line.foreign === xenConstant('DOMID_SELF')?.value ? n.constant('DOMID_SELF') : hex(line.foreign), capacity, fail: failLabel(ctx, failTarget) ?? `${name}_failed` };
}

// ---------------------------------------------------------------------------------------
// A loop

/**
 * The loop rewrite for an unbatched-pt-loop finding: `site` makes the call in `loop`
 * itself, or in the function that `loop` calls (`viaCall`: it is reported at a call).
 */
export function loopBatchFix(ctx: Context, site: HypercallSite, loop: Loop, trip: TripCount | null, viaCall: boolean): Fix | null {
  const { program, cfg, df } = ctx;
  if (program.truncated || loop.irreducible || loop.latches.length === 0) return null;
  const line = callLine(ctx, site);
  if (!line) return null;
  const sb = cfg.blockOf[site.instr];
  // the loop's blocks that make the call (or call the function that makes it)
  let making = [sb];
  if (viaCall) {
    const fns = cfg.functionsOf[sb];
    if (fns.length !== 1 || cfg.loopOf[sb] >= 0) return null;
    const fn = cfg.functions[fns[0]];
    if (cfg.roots.get(fn.entry) !== 'function' || !fn.callers.every((b) => cfg.loopOf[b] === loop.id)) return null;
    making = fn.callers;
  } else if (cfg.loopOf[sb] !== loop.id) return null;

  // everything the loop runs: no other hypercall, no way out but its exits
  const reached = calledFrom(cfg, loop.blocks);
  if (!reached) return null;
  for (const b of loop.blocks) if (!plainBlock(ctx, b, false)) return null;
  for (const f of reached) {
    const fn = cfg.functions[f];
    if (fn.blocks.includes(loop.header)) return null; // recursion into the loop
    for (const b of fn.blocks) if (!plainBlock(ctx, b, true)) return null;
  }
  const blocks = new Set(loop.blocks);
  for (const f of reached) for (const b of cfg.functions[f].blocks) blocks.add(b);
  for (const b of blocks) {
    const blk = cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) {
      if (program.instrs[i].hypercall && i !== site.instr) return null;
      // the updates take effect after the loop once queued: nothing in it may use memory through them
      if (usesMappedMemory(ctx, program.instrs[i])) return null;
    }
  }

  // the exits: the old failure checks (never taken once queued), and one way out
  let normal: Edge[] = [];
  for (const b of loop.blocks) {
    for (const e of cfg.blocks[b].succ) {
      if (e.kind === 'call' || loop.blocks.has(e.to)) continue;
      const last = cfg.blocks[b].last;
      const check = e.kind === 'branch' ? failureCheck(ctx, site.instr, last - 1) : null;
      if (check && check.jcc === last) continue;
      normal.push(e);
    }
  }
  if (normal.length === 0 || normal.some((e) => e.to !== normal[0].to)) return null;
  const exit = cfg.blocks[normal[0].to];
  if (cfg.roots.has(exit.id) || exit.pred.some((p) => p.kind === 'call' || !loop.blocks.has(p.from))) return null;
  normal = exit.pred;

  // the flush clobbers the flags (and eax, unless it already held the call's result)
  const eaxIsResult = df.inState.get(exit.id)?.def[EAX] === site.instr;
  const atExit = liveAt(ctx, exit.first, eaxIsResult ? 0 : bit(EAX), true);
  if (atExit.regs || atExit.flags) return null;

  // calls in all: a block of the header runs once more than the iterations when the exit is tested there
  const calls = trip ? making.reduce((n, b) => n + runsOf(trip, loop, b), 0) : 0;
  const perEntry = calls >= 1 ? calls * line.count : Infinity;
  const bounded = perEntry > QUEUE_ENTRIES;
  if ((bounded || line.setsFlags) && liveAfter(ctx, line.last, 0, true).flags) return null;
  const b = newBatch(ctx, line, bounded ? QUEUE_ENTRIES : perEntry, line.fail);
  const queue = queueLines(ctx, b, line, bounded);
  if (!queue) return null;
  const flush = [`; xenolab: the requests the loop queued in ${b.name}, in one mmu_update`, ...flushLines(b, `..@${b.name}_empty`)];
  const at = exitEdit(ctx, normal, exit.first, flush);
  if (!at) return null;
  const root = program.files[0];
  const replaced = replaceEdit(root, line.start, line.end, queue);
  if (overlaps(at, replaced)) return null;
  const how = bounded ? `${QUEUE_ENTRIES} at a time` : `${b.capacity} entries`;
  const what = `queued by the loop at line ${lineOf(root, program.instrs[cfg.blocks[loop.header].first].user.start) + 1}`;
  return {
    title: `Queue the requests in an array (${how}) and make one mmu_update after the loop`,
    edits: [replaced, at, batchData(ctx, b, what, sectionAt(program.result, program.instrs[exit.first].address))],
  };
}

/** Control leaves the block only along its edges (and by a return, in a called function); no `jmp $`. */
function plainBlock(ctx: Context, b: number, mayReturn: boolean): boolean {
  const { cfg, program } = ctx;
  const blk = cfg.blocks[b];
  const last = program.instrs[blk.last];
  const f = last.flow;
  if (f.kind === 'stop' || (f.kind === 'return' && !mayReturn)) return false;
  if (f.kind === 'jump' && (f.target === null || last.hypercall || f.target === last.address)) return false;
  return !blk.unknownCall;
}

/**
 * Where code goes on the way out of a loop: after the line that falls out of it, or
 * before the first statement of the code it jumps to (after its label).
 */
function exitEdit(ctx: Context, edges: readonly Edge[], target: number, lines: string[]): TextEdit | null {
  const { program, cfg } = ctx;
  const root = program.files[0];
  const to = program.instrs[target];
  if (edges.length === 1 && edges[0].kind === 'fall') {
    const from = program.instrs[cfg.blocks[edges[0].from].last];
    if (from.user.file === 0 && !from.tainted && lineRun(ctx, from.index)?.last === from.index && lineOf(root, from.user.end) < lineOf(root, to.user.start)) {
      return insertAfterLine(root, from.user.end, lines);
    }
  }
  if (to.user.file !== 0 || to.tainted || lineRun(ctx, target)?.first !== target) return null;
  const start = to.line.stack.length ? to.line.stack[0].span.start : to.statement.start;
  // right after the label line above it, when only comments and blank lines come between
  const nodes = program.result.trees.get(0) ?? [];
  let k = nodes.findIndex((n) => n.start <= start && start < Math.max(n.end, n.start + 1));
  if (k > 0 && !nodes[k].label) {
    for (k--; k >= 0 && !nodes[k].label && !nodes[k].statement && !nodes[k].preproc; k--);
    const above = nodes[k];
    if (above?.label && !above.statement && !above.preproc && program.symbolByName.get(fullLabelName(nodes, k, (x) => program.symbolByName.has(x)))?.value === to.address) {
      return insertAfterLine(root, above.label.start, lines);
    }
  }
  return insertBefore(root, start, lines);
}

function overlaps(a: TextEdit, b: TextEdit): boolean {
  const s = (e: TextEdit) => e.range.start.line * 1e6 + e.range.start.column;
  const t = (e: TextEdit) => e.range.end.line * 1e6 + e.range.end.column;
  return s(a) <= t(b) && s(b) <= t(a);
}

// ---------------------------------------------------------------------------------------
// Straight-line code

/**
 * Consecutive single-entry mmu_update calls (`seq`, in program order, as the
 * unbatched-pt-sequence rule found them) as one batch: each call queues its requests, the
 * last one also makes the batched call, whose result is then in eax where the last call's
 * was. Every branch out of the stretch must be one of the calls' failure checks.
 */
export function sequenceBatchFix(ctx: Context, seq: readonly HypercallSite[]): Fix | null {
  const { program, cfg } = ctx;
  if (program.truncated || seq.length < 2) return null;
  const lines: CallLine[] = [];
  for (const s of seq) {
    const l = callLine(ctx, s);
    if (!l || (lines.length && (l.foreign !== lines[0].foreign || l.start <= lines[lines.length - 1].end))) return null;
    lines.push(l);
  }
  const sites = new Set(seq.map((s) => s.instr));
  // the way from the first call to the last: branches out are failure checks
  const last = lines[lines.length - 1];
  for (let i = lines[0].site.instr; i < last.last;) {
    const ins = program.instrs[i];
    if (ins.flow.kind === 'branch') {
      const def = ctx.df.before(i - 1)?.def[EAX] ?? -1;
      if (!sites.has(def) || failureCheck(ctx, def, i - 1)?.jcc !== i) return null;
    }
    const blk = cfg.blocks[cfg.blockOf[i]];
    if (i < blk.last) {
      i++;
      continue;
    }
    const fall = blk.succ.find((e) => e.kind === 'fall');
    if (!fall) return null;
    i = cfg.blocks[fall.to].first;
  }
  for (const l of lines) {
    const flagsChange = l.setsFlags || l === last;
    if (flagsChange && liveAfter(ctx, l.last, 0, true).flags) return null;
  }
  const capacity = lines.reduce((a, l) => a + l.count, 0);
  // one failure path for the batch: calls checked to different places cannot share it
  if (new Set(lines.filter((l) => l.fail >= 0).map((l) => l.fail)).size > 1) return null;
  const failTarget = lines.find((l) => l.fail >= 0)?.fail ?? -1;
  const b = newBatch(ctx, lines[0], capacity, failTarget);
  const root = program.files[0];
  const edits: TextEdit[] = [];
  for (const l of lines) {
    const queue = queueLines(ctx, b, l, false);
    if (!queue) return null;
    if (l === last) queue.push(`; xenolab: the ${capacity} requests, in one mmu_update`, ...flushLines(b, `..@${b.name}_empty`));
    edits.push(replaceEdit(root, l.start, l.end, queue));
  }
  edits.push(batchData(ctx, b, `the ${seq.length} calls from line ${lineOf(root, lines[0].start) + 1}`, sectionAt(program.result, program.instrs[seq[0].instr].address)));
  return { title: `Make these ${seq.length} mmu_update calls one batch`, edits };
}

// ---------------------------------------------------------------------------------------
// update_va_mapping → multicall

/**
 * update_va_mapping calls with constant arguments, one after the other with only their
 * argument set-up between them, as one multicall (when the registers they leave are not
 * read afterwards).
 */
export function multicallFix(ctx: Context, seq: readonly HypercallSite[]): Fix | null {
  const { program, cfg } = ctx;
  const root = program.files[0];
  if (!root) return null;
  const args: string[][] = [];
  for (const s of seq) {
    if (s.hypercall?.name !== 'update_va_mapping' || s.via === 'page-jump' || !s.state) return null;
    // each argument as its set-up wrote it (`UVMF_INVLPG`, the label it named), else by its value
    const state = s.state;
    const text = [EBX, ECX, EDX, ESI].map((r) => {
      const v = state.regs[r];
      return typeof v !== 'number' ? null : writtenConstant(ctx, state.def[r]) ?? valueText(ctx, v);
    });
    if (text.some((x) => x === null)) return null;
    args.push(text as string[]);
  }
  const first = seq[0].instr;
  const last = seq[seq.length - 1].instr;
  let start = first;
  while (start - 1 >= 0 && cfg.blockOf[start - 1] === cfg.blockOf[first] && isConstSetup(program.instrs[start - 1], SETUP)) start--;
  const sites = new Set(seq.map((s) => s.instr));
  let setsFlags = false;
  for (let i = start; i <= last; i++) {
    const ins = program.instrs[i];
    if (ins.user.file !== 0 || ins.line.stack.length > 1 || ins.tainted || !lineRun(ctx, i)) return null;
    if (!sites.has(i) && !isConstSetup(ins, SETUP)) return null;
    setsFlags ||= ins.fx.setsFlags;
  }
  // whole lines: nothing else on the lines from the first to the last
  const firstLine = lineOf(root, program.instrs[start].user.start);
  const lastLine = lineOf(root, program.instrs[last].user.end);
  if (start > 0 && program.instrs[start - 1].user.file === 0 && lineOf(root, program.instrs[start - 1].user.start) >= firstLine) return null;
  if (last + 1 < program.instrs.length && program.instrs[last + 1].user.file === 0 && lineOf(root, program.instrs[last + 1].user.start) <= lastLine) return null;
  for (const node of program.result.trees.get(0) ?? []) {
    const l = lineOf(root, node.start);
    if (l < firstLine || l > lastLine) continue;
    if (node.preproc || (node.label && l > firstLine) || (node.statement && node.statement.kind !== 'instruction')) return null;
  }
  const live = liveAfter(ctx, last, SETUP, setsFlags);
  if (live.regs || live.flags) return null;
  const n = new Names(ctx);
  const batch = uniqueLabel(ctx, `xenolab_batch_${firstLine + 1}`);
  const replaced = replaceEdit(root, program.instrs[start].user.start, program.instrs[last].user.end, [
    `mov ebx, ${batch} ; ${seq.length} update_va_mapping calls in one multicall`,
    `mov ecx, ${seq.length}`,
    ...n.hypercall('multicall'),
  ]);
  const num = n.hypercallNumber('update_va_mapping');
  return {
    title: `Make these ${seq.length} update_va_mapping calls one multicall`,
    edits: [replaced, appendData(ctx, [
      `${batch}: ; struct multicall_entry[${seq.length}]: op, result, args[6]`,
      ...args.map((a) => `    dd ${num}, 0, ${a.join(', ')}, 0, 0`),
    ])],
  };
}
