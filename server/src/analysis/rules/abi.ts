// Hypercall ABI misuse: unknown-hypercall, hypercall-arg-unset, bad-hypercall-command and
// hypercall-from-ring3.

import { HYPERCALL_ARG_REGISTERS, hypercallByNumber, xenStruct } from '../../../../isa/src/index.js';
import type { Span, Statement } from '../../../../asm/src/index.js';
import { blocksReached, isIntra, type Edge } from '../cfg.js';
import { hex, inImage, nameAt, ring3Blocks, sourceText, type Context } from '../context.js';
import { EAX, EBX, ECX, ESP } from '../effects.js';
import {
  ARG_REGS, argName, argumentsRead, commandName, commandsOf, COMMANDS, GROUP_OF, hypercallName, STUB_SIZE,
  type CommandSpec, type HypercallSite,
} from '../hypercalls.js';
import type { Instr } from '../program.js';
import { dataExprAt, setterOf, wordAt } from '../memory.js';
import { paeKernel } from './stores.js';
import { handlerAt, type HandlerEntry } from '../handlers.js';
import { hypercallClobbers } from '../values.js';

export function checkAbi(ctx: Context): void {
  const handlers = handlerAt(ctx);
  for (const site of ctx.sites) {
    if (!site.state) continue;
    unknownHypercall(ctx, site);
    if (site.hypercall?.enosys) continue; // the call is the error: its arguments do not matter
    argumentsSet(ctx, site);
    if (handlers.size) interruptedArguments(ctx, site, handlers);
    commands(ctx, site);
    numberReloaded(ctx, site);
    if (site.hypercall?.name === 'multicall') multicallOps(ctx, site);
    pointerArguments(ctx, site);
    if (site.hypercall?.name === 'iret' && site.via === 'int') iretFrame(ctx, site, handlers);
  }
  ring3(ctx);
}

/** Blocks walked back from an int 0x82 for a hypercall whose result reaches it. */
const MAX_BACK_BLOCKS = 2000;

/**
 * int 0x82 whose eax, on some way to it, is still the result of an earlier hypercall (the
 * number not loaded again, as in a loop that repeats the call): that result is taken as
 * the hypercall number.
 */
function numberReloaded(ctx: Context, site: HypercallSite): void {
  // a number known here is what every way loads
  if (site.via !== 'int' || typeof site.state?.regs[EAX] === 'number') return;
  const { cfg, program } = ctx;
  // back from the int: the first write of eax on each way decides
  const seen = new Uint8Array(cfg.blocks.length);
  const work: [number, number][] = [[cfg.blockOf[site.instr], site.instr - 1]];
  let visits = 0;
  while (work.length && visits++ < MAX_BACK_BLOCKS) {
    const [b, from] = work.pop()!;
    const blk = cfg.blocks[b];
    let set = false;
    for (let i = from; i >= blk.first && !set; i--) {
      const ins = program.instrs[i];
      if (ins.hypercall) {
        ctx.report.add({
          code: 'hypercall-arg-unset', at: program.instrs[site.instr],
          message: `int 0x82: on a way here from an earlier hypercall, eax is not loaded again: it holds that call's result (0 or a negative errno), which Xen takes as the hypercall number. Load the number before each int 0x82.`,
          related: [{ span: ins.user, message: 'the earlier hypercall, whose result is in eax' }],
        });
        return;
      }
      if (ins.fx.writes & (1 << EAX)) set = true;
    }
    if (set) continue;
    for (const e of blk.pred) {
      // through calls and returns the callee decides eax: not followed
      if (e.kind === 'call' || e.kind === 'return' || seen[e.from]) continue;
      seen[e.from] = 1;
      work.push([e.from, cfg.blocks[e.from].last]);
    }
  }
}

const MULTICALL_ENTRY = xenStruct('multicall_entry')?.size ?? 32;

/** The ops of a multicall's entries (known words of its list): each must be a hypercall, and not a multicall. */
function multicallOps(ctx: Context, site: HypercallSite): void {
  const s = site.state!;
  const list = s.regs[EBX], count = s.regs[ECX];
  if (typeof list !== 'number' || typeof count !== 'number') return;
  for (let k = 0; k < Math.min(count >>> 0, 64); k++) {
    const at = (list + k * MULTICALL_ENTRY) >>> 0;
    const word = wordAt(ctx, site.instr, at);
    if (!word) continue;
    for (const op of new Set(word.values)) {
      const h = hypercallByNumber(op >>> 0);
      if (h && h.name !== 'multicall' && !h.enosys) continue;
      ctx.report.add({
        code: 'unknown-hypercall', at: ctx.program.instrs[site.instr],
        message: `entry ${k} of the multicall list at ${nameAt(ctx, list)} has op = ${op >>> 0}, ${!h ? 'which is no hypercall number' : h.name === 'multicall' ? 'a multicall, which Xen refuses inside one' : `${h.name}, which has no handler for a 32-bit PV guest`}: Xen stores ${h?.name === 'multicall' ? '-EINVAL' : '-ENOSYS'} as its result and goes on with the next.`,
      });
    }
  }
}

/** Words each instruction puts on the stack (negative: takes off), for iretFrame. */
const STACK_WORDS: Readonly<Record<string, number>> = { push: 1, pop: -1, pushad: 8, popad: -8, pusha: 8, popa: -8, pushfd: 1, popfd: -1, pushf: 1, popf: -1 };

/**
 * The iret hypercall made with int 0x82 in a handler that has not pushed a word for eax
 * since Xen entered it: Xen pops eax from [esp] first (the hypercall page's stub pushes
 * it), so it takes the frame's EIP for eax and every word after it one slot off. Counted
 * back along the handler's straight way from its entry only.
 */
function iretFrame(ctx: Context, site: HypercallSite, entries: ReadonlyMap<number, HandlerEntry>): void {
  const { cfg, program } = ctx;
  let words = 0;
  let b = cfg.blockOf[site.instr];
  for (let i = site.instr - 1, steps = 0; steps < 64; steps++) {
    const blk = cfg.blocks[b];
    for (; i >= blk.first; i--) {
      const ins = program.instrs[i];
      const [dst, src] = ins.insn.operands;
      if (STACK_WORDS[ins.mnemonic] !== undefined) words += STACK_WORDS[ins.mnemonic];
      else if (dst?.type === 'reg' && dst.reg.name === 'esp') {
        if (!((ins.mnemonic === 'add' || ins.mnemonic === 'sub') && src?.type === 'imm' && (src.value & 3) === 0)) return;
        words += (ins.mnemonic === 'add' ? -1 : 1) * ((src.value | 0) / 4);
      } else if (ins.flow.kind === 'call' || ins.fx.writes & (1 << ESP)) return;
    }
    const entry = entries.get(blk.first);
    if (entry) {
      if (words <= 0) {
        ctx.report.add({
          code: 'unknown-hypercall', at: program.instrs[site.instr],
          message: `the iret hypercall pops eax from [esp] before the frame, but ${entry.name} has not pushed one since Xen entered it: Xen takes the frame's first word for eax and reads the rest one slot off. Push eax first (the hypercall page's stub does), or jump to the stub (HYPERCALL_PAGE_JMP iret).`,
          related: [{ span: program.instrs[entry.instr].user, message: `Xen enters ${entry.name} here` }],
        });
      }
      return;
    }
    // back along the one way in
    if (blk.pred.length !== 1 || !isIntra(blk.pred[0])) return;
    b = blk.pred[0].from;
    i = cfg.blocks[b].last;
  }
}

function unknownHypercall(ctx: Context, site: HypercallSite): void {
  const ins = ctx.program.instrs[site.instr];
  if (site.misaligned !== null) {
    ctx.report.add({
      code: 'unknown-hypercall', at: ins,
      message: `${ins.mnemonic} into the hypercall page at offset ${hex(site.misaligned)}, which is not the start of a stub: hypercall N's stub is at hypercall_page + N*${STUB_SIZE}.`,
    });
    return;
  }
  if (site.number === null) return;
  const def = site.state?.def[EAX] ?? -1;
  const h = site.hypercall;
  if (h?.name === 'iret' && site.via === 'page-call') {
    ctx.report.add({
      code: 'unknown-hypercall', at: ins,
      message: `iret's stub is jumped to, not called (HYPERCALL_PAGE_JMP iret): it does not return, and Xen takes what the call pushed, its return address, as the frame's EIP.`,
    });
    return;
  }
  if (h?.enosys) {
    ctx.report.add({
      code: 'unknown-hypercall', at: ins,
      message: `${h.name} (hypercall ${h.number}) has no handler for a 32-bit PV guest: ${h.enosys}, and Xen returns -ENOSYS.`,
      related: site.via === 'int' && def >= 0 ? [{ span: ctx.program.instrs[def].user, message: `eax is set to ${site.number} here` }] : [],
    });
    return;
  }
  if (h) return;
  ctx.report.add({
    code: 'unknown-hypercall', at: ins,
    message: site.via === 'int'
      ? `int 0x82 with eax = ${site.number}, which is no hypercall number: Xen returns -ENOSYS. The numbers are the __HYPERVISOR_* constants of xen.inc.`
      : `${ins.mnemonic} to the hypercall page's stub ${site.number}, which is no hypercall: Xen returns -ENOSYS.`,
    related: site.via === 'int' && def >= 0 ? [{ span: ctx.program.instrs[def].user, message: `eax is set to ${site.number} here` }] : [],
  });
}

function argumentsSet(ctx: Context, site: HypercallSite): void {
  const s = site.state!;
  const ins = ctx.program.instrs[site.instr];
  const missing: string[] = [];
  let mask = 0;
  if (site.via === 'int' && !(s.defined & (1 << EAX))) {
    missing.push('eax (the hypercall number)');
    mask |= 1 << EAX;
  }
  const h = site.hypercall;
  if (h) {
    const ebx = s.regs[EBX];
    const n = argumentsRead(h, typeof ebx === 'number' ? ebx : null);
    for (let i = 0; i < n; i++) {
      const r = ARG_REGS[i];
      if (!(s.defined & (1 << r))) {
        missing.push(argName(h, i));
        mask |= 1 << r;
      }
    }
  }
  if (!missing.length) return;
  const related: { span: Span; message: string }[] = [];
  // where the value comes from a caller that did not set it
  const { cfg, df } = ctx;
  for (const fn of cfg.functionsOf[cfg.blockOf[site.instr]]) {
    const entry = df.inState.get(cfg.functions[fn].entry);
    if (!entry || (entry.defined & mask) === mask) continue;
    for (const caller of cfg.functions[fn].callers) {
      const out = df.outState.get(caller);
      if (out && (out.defined & mask) !== mask && related.length < 3) {
        related.push({ span: ctx.program.instrs[cfg.blocks[caller].last].user, message: 'called from here without it set' });
      }
    }
  }
  // left overwritten by an earlier hypercall, on some way here
  const clobberedBy = new Set<number>();
  for (const r of ARG_REGS) {
    const at = (mask & (1 << r)) ? clobberingCall(ctx, site.instr, r) : -1;
    if (at >= 0) clobberedBy.add(at);
  }
  for (const at of clobberedBy) {
    if (related.length < 4) related.push({ span: ctx.program.instrs[at].user, message: `${hypercallName(ctx.siteAt.get(at)!)} may overwrite its argument registers here` });
  }
  const why = clobberedBy.size
    ? 'which an earlier hypercall may have overwritten and nothing set again: Xen clobbers a hypercall\'s argument registers (debug builds write 0xDEADF00D into them), so set them before every call.'
    : `${missing.length > 1 ? 'which are' : 'which is'} not set on every path to it: Xen takes whatever the register holds.`;
  ctx.report.add({
    code: 'hypercall-arg-unset', at: ins,
    message: `${hypercallName(site)} reads ${missing.join(' and ')}, ${why}`,
    related,
  });
}

/**
 * A hypercall that overwrites register r and reaches instruction `at` with nothing setting
 * r between them (see backFrom), or -1.
 */
function clobberingCall(ctx: Context, at: number, r: number): number {
  return backFrom(ctx, at, r, (i) => {
    const site = ctx.siteAt.get(i);
    return site !== undefined && site.state !== null && site.number !== null && (hypercallClobbers(site.number) & (1 << r)) !== 0;
  });
}

/**
 * The first instruction `found` accepts on a way back from before instruction `at` (from
 * `at` itself when `inclusive`; by jumps, past calls whose callee leaves r alone, and from a
 * function's entry into its callers) on which nothing sets register r, or -1.
 */
function backFrom(ctx: Context, at: number, r: number, found: (i: number) => boolean, inclusive = false): number {
  const { cfg, program } = ctx;
  const seen = new Uint8Array(cfg.blocks.length);
  // [block, last instruction to look at]
  const work: [number, number][] = [[cfg.blockOf[at], inclusive ? at : at - 1]];
  while (work.length) {
    const [b, from] = work.pop()!;
    const blk = cfg.blocks[b];
    let set = false;
    for (let i = from; i >= blk.first; i--) {
      if (found(i)) return i;
      if (program.instrs[i].fx.writes & (1 << r)) {
        set = true;
        break;
      }
    }
    if (set) continue;
    for (const e of blk.pred) {
      if (seen[e.from]) continue;
      // past a call whose callee may set r: that way sets it
      if (e.kind === 'return' && (e.callee < 0 || ctx.df.clobbers[e.callee] & (1 << r))) continue;
      // (a 'call' edge: on into the caller, from its call)
      seen[e.from] = 1;
      work.push([e.from, cfg.blocks[e.from].last]);
    }
  }
  return -1;
}

/**
 * Argument registers a hypercall reads that a handler Xen entered (not a gate ring 3 calls
 * with arguments) never set on some way to it: they hold what the interrupted code had.
 */
function interruptedArguments(ctx: Context, site: HypercallSite, handlers: ReadonlyMap<number, HandlerEntry>): void {
  const h = site.hypercall;
  const s = site.state;
  if (!h || !s) return;
  const ebx = s.regs[EBX];
  const n = argumentsRead(h, typeof ebx === 'number' ? ebx : null);
  const names: string[] = [];
  let entry: HandlerEntry | undefined;
  for (let i = 0; i < n; i++) {
    const r = ARG_REGS[i];
    // set on every way here, by no one instruction: perhaps only by whoever ran before the handler
    if (!(s.defined & (1 << r)) || s.def[r] >= 0) continue;
    const at = backFrom(ctx, site.instr, r, (k) => handlers.get(k)?.gate === false && !(ctx.program.instrs[k].fx.writes & (1 << r)), true);
    if (at < 0) continue;
    names.push(argName(h, i));
    entry ??= handlers.get(at);
  }
  if (!entry) return;
  ctx.report.add({
    code: 'hypercall-arg-unset', at: ctx.program.instrs[site.instr],
    message: `${hypercallName(site)} reads ${names.join(' and ')}, which ${entry.name} does not set before it: Xen enters a handler with the registers of the code it interrupted, so the call gets whatever that code had.`,
    related: [{ span: ctx.program.instrs[entry.instr].user, message: `Xen enters ${entry.name} here` }],
  });
}

/** Hypercalls whose pointer argument is never NULL (every command reads a struct through it). */
const NEEDS_POINTER: ReadonlySet<string> = new Set(['event_channel_op', 'physdev_op', 'callback_op', 'sched_op']);

/**
 * A pointer argument the hypercall reads that holds a small constant (a command, a flag, a
 * reason: 1 to 4095, or 0 where the pointer is required): Xen copies from that address,
 * which no guest maps, and fails with -EFAULT.
 */
function pointerArguments(ctx: Context, site: HypercallSite): void {
  const h = site.hypercall;
  const s = site.state;
  if (!h || !s || h.enosys) return;
  const ebx = s.regs[EBX];
  // a command in ebx: only a known one says what it reads (a bad one is reported as such)
  const spec = COMMANDS[h.name];
  if (spec?.where === 'ebx' && (typeof ebx !== 'number' || !commandName(spec, ebx))) return;
  const n = argumentsRead(h, typeof ebx === 'number' ? ebx : null);
  // (mmuext_op's request pointer holding a command is reported with the commands)
  for (let i = spec?.where === 'struct' ? 1 : 0; i < n; i++) {
    const arg = h.args[i];
    const v = s.regs[ARG_REGS[i]];
    if (!arg?.cType.includes('*') || typeof v !== 'number' || v >>> 0 >= 4096 || (v === 0 && !NEEDS_POINTER.has(h.name))) continue;
    // an address in the image is a pointer, however low (a kernel assembled without org)
    if (v !== 0 && inImage(ctx, v)) continue;
    const setter = setterOf(ctx, s, ARG_REGS[i]);
    const written = setter ? sourceText(ctx, setter) : null;
    ctx.report.add({
      code: 'hypercall-arg-pointer', at: ctx.program.instrs[site.instr],
      message: `${hypercallName(site)} reads ${argName(h, i)} as a pointer (${arg.cType}), but it is ${v}${written ? ` (\`${written}\`)` : ''}: Xen reads guest memory at that address and fails the call with -EFAULT. Put the value in the struct the call takes and pass its address.`,
      related: setter ? [{ span: setter.user, message: `${HYPERCALL_ARG_REGISTERS[i]} is set here` }] : [],
    });
  }
}

/** A register's value in a message: small numbers as they are, addresses in hex. */
const shown = (v: number) => ((v >>> 0) < 0x10000 ? String(v >>> 0) : hex(v));

function commands(ctx: Context, site: HypercallSite): void {
  const h = site.hypercall;
  if (!h) return;
  const spec = COMMANDS[h.name];
  if (!spec) return;
  const ins = ctx.program.instrs[site.instr];
  const s = site.state!;
  if (spec.where === 'struct') {
    structCommands(ctx, site, spec);
    return;
  }
  const ebx = s.regs[EBX];
  if (typeof ebx !== 'number') return;
  const valid = commandName(spec, ebx);
  const setter = setterOf(ctx, s, EBX);
  if (!valid) {
    ctx.report.add({
      code: 'bad-hypercall-command', at: ins,
      message: `ebx = ${shown(ebx)} is not a ${h.name} command: ${h.name} takes ${list(spec)}.${spec.successor ? ` Xen fails the others with -ENOSYS; ${spec.successor} takes them all.` : ''}`,
      related: setter ? [{ span: setter.user, message: `ebx is set to ${shown(ebx)} here` }] : [],
    });
    return;
  }
  // the right number, under another hypercall's name
  const named = foreignName(setter, spec.group, spec.prefix);
  if (named) {
    ctx.report.add({
      code: 'bad-hypercall-command', at: ins,
      message: `ebx is ${named}, which is not a ${h.name} command (${h.name} takes ${spec.prefix}*); its value ${ebx} means ${valid} here.`,
      related: [{ span: setter!.user, message: `ebx is set to ${named} here` }],
    });
    return;
  }
  if (h.name === 'vm_assist') {
    const ecx = s.regs[ECX];
    // the 64-bit-only assist (m2p_strict) is refused (-EINVAL) for a 32-bit guest
    const types = (xenConstantGroupConstants('VMASST')).filter((k) => k.name.startsWith('VMASST_TYPE_') && k.name !== 'VMASST_TYPE_m2p_strict');
    const ecxSetter = setterOf(ctx, s, ECX);
    const ecxNamed = foreignName(ecxSetter, 'VMASST', 'VMASST_TYPE_');
    if (typeof ecx === 'number' && !types.some((k) => k.value === ecx)) {
      ctx.report.add({
        code: 'bad-hypercall-command', at: ins,
        message: `ecx = ${ecx} is not a VMASST_TYPE_* assist a 32-bit guest can have: vm_assist takes ${types.map((k) => `${k.name} (${k.value})`).join(', ')}.`,
        related: ecxSetter ? [{ span: ecxSetter.user, message: `ecx is set to ${ecx} here` }] : [],
      });
    } else if (ecxNamed) {
      // the right number under another group's name (MMUEXT_PIN_L3_TABLE is 2, as writable_pagetables is)
      ctx.report.add({
        code: 'bad-hypercall-command', at: ins,
        message: `ecx is ${ecxNamed}, which is not a VMASST_TYPE_* assist; its value ${ecx} means ${types.find((k) => k.value === ecx)?.name} here.`,
        related: [{ span: ecxSetter!.user, message: `ecx is set to ${ecxNamed} here` }],
      });
    }
  }
}

/** The Xen constant a setter's source operand names, when it is one of another group than `group`'s `prefix` names. */
function foreignName(setter: Instr | null, group: string, prefix: string): string | null {
  const named = setter ? symbolOperand(setter.statement) : null;
  return named && isForeign(named.name, group, prefix) ? named.name : null;
}

/** A Xen constant's name that is not one of the `prefix` names of `group`. */
function isForeign(name: string, group: string, prefix: string): boolean {
  return GROUP_OF.has(name) && (GROUP_OF.get(name) !== group || !name.startsWith(prefix));
}

function xenConstantGroupConstants(group: string) {
  return commandsOf({ group, prefix: '', where: 'ebx' });
}

function list(spec: CommandSpec): string {
  const all = commandsOf(spec);
  const shown = all.slice(0, 8).map((k) => `${k.name} (${k.value})`).join(', ');
  return all.length > 8 ? `${shown}, ... (${all.length} in all)` : shown;
}

/** The symbol an instruction's source operand names, when it is just a name (`mov ebx, SCHEDOP_block`). */
function symbolOperand(st: Statement): { name: string } | null {
  if (st.kind !== 'instruction' || st.operands.length !== 2) return null;
  const op = st.operands[1];
  if (op.kind !== 'imm' || op.expr.kind !== 'sym') return null;
  return { name: op.expr.name };
}

/** mmuext_op: the cmd of each request in a static array ebx points to. */
function structCommands(ctx: Context, site: HypercallSite, spec: CommandSpec): void {
  const s = site.state!;
  const base = s.regs[EBX];
  if (typeof base !== 'number') return;
  const ins = ctx.program.instrs[site.instr];
  // a command where the pointer to the requests goes (ebx = MMUEXT_TLB_FLUSH_LOCAL)
  if (base >>> 0 < 4096 && !inImage(ctx, base)) {
    const setter = setterOf(ctx, s, EBX);
    const named = commandName(spec, base);
    ctx.report.add({
      code: 'bad-hypercall-command', at: ins,
      message: `ebx = ${base}${named ? ` (${named})` : ''}, but ${site.hypercall!.name} takes a pointer to its requests in ebx, each with its command in its cmd field: put the command in a struct ${site.hypercall!.name} and pass its address.`,
      related: setter ? [{ span: setter.user, message: `ebx is set to ${base} here` }] : [],
    });
    return;
  }
  const count = typeof s.regs[ECX] === 'number' ? Math.min(s.regs[ECX] as number, 64) : 1;
  for (let k = 0; k < count; k++) {
    const at = (base + k * (spec.stride ?? 12)) >>> 0;
    const word = wordAt(ctx, site.instr, at);
    if (!word) continue;
    for (const v of new Set(word.values)) {
      const valid = commandName(spec, v);
      if (!valid) {
        ctx.report.add({
          code: 'bad-hypercall-command', at: ins,
          message: `the ${site.hypercall!.name} request at ${nameAt(ctx, at)} has cmd = ${v}, which is not one of its ${spec.prefix}* commands: ${list(spec)}.`,
        });
        continue;
      }
      // the right number, under another group's name (UVMF_INVLPG is 2, as MMUEXT_PIN_L3_TABLE is):
      // set by an instruction, or written in the request's static data
      const sources: { name: string; span: Span }[] = [];
      for (const st of word.stores) {
        const named = st.value === v ? foreignName(st.source, spec.group, spec.prefix) : null;
        if (named) sources.push({ name: named, span: st.source!.user });
      }
      const expr = word.stores.length === 0 ? dataExprAt(ctx, at) : null;
      if (expr?.kind === 'sym' && isForeign(expr.name, spec.group, spec.prefix)) sources.push({ name: expr.name, span: expr });
      const foreign = sources[0];
      if (foreign) {
        ctx.report.add({
          code: 'bad-hypercall-command', at: ins,
          message: `the ${site.hypercall!.name} request at ${nameAt(ctx, at)} has cmd = ${foreign.name}, which is not a ${spec.prefix}* command; its value ${v} means ${valid} here.`,
          related: [{ span: foreign.span, message: `cmd is set to ${foreign.name} here` }],
        });
        continue;
      }
      const refused = spec.refused?.[valid];
      if (refused && !(refused.unlessPae && paeKernel(ctx))) {
        ctx.report.add({
          code: 'bad-hypercall-command', at: ins,
          message: `the ${site.hypercall!.name} request at ${nameAt(ctx, at)} has cmd = ${valid}, a command for ${refused.for}: ${refused.why}`,
        });
      }
    }
  }
}

/**
 * Hypercalls reachable (through jumps and calls) from code annotated `; xenolab: ring3`.
 * A function the kernel calls too is the kernel's: its hypercall is reported at the ring-3
 * code's call to it (that call is the mistake), else at the hypercall.
 */
function ring3(ctx: Context): void {
  const { program, cfg } = ctx;
  const reported = new Set<number>();
  /** Blocks reached from `from` by jumps, and by the calls `follow` takes. */
  const reach = (from: number, follow: (e: Edge) => boolean) => blocksReached(cfg, [from], (e) => isIntra(e) || follow(e));
  const gate = 'the hypercall gate admits ring 1 only, so ring 3 gets #GP. Make a system call into the kernel (int to a trap-table handler) and have the kernel make the hypercall.';
  const regions = program.ring3.flatMap((region) => {
    const start = program.byAddress.get(region.start);
    return start === undefined ? [] : [{ region, entry: cfg.blockOf[start] }];
  });
  // everything ring-3 code may run: a function called from elsewhere too is the kernel's
  const ring3Code = ring3Blocks(ctx);
  const kernels = (e: Edge) => e.kind === 'call' && cfg.blocks[e.to].pred.some((p) => p.kind === 'call' && !ring3Code[p.from]);
  for (const { region, entry } of regions) {
    const annotated = { span: region.span, message: `${region.name} is annotated \`; xenolab: ring3\`` };
    const user = reach(entry, (e) => e.kind === 'call' && !kernels(e));
    for (const site of ctx.sites) {
      if (!user[cfg.blockOf[site.instr]] || reported.has(site.instr)) continue;
      reported.add(site.instr);
      ctx.report.add({
        code: 'hypercall-from-ring3', at: program.instrs[site.instr],
        message: `${hypercallName(site)} is reachable from ring-3 code (${region.name}): ${gate}`,
        related: [annotated],
      });
    }
    for (let b = 0; b < cfg.blocks.length; b++) {
      if (!user[b]) continue;
      for (const e of cfg.blocks[b].succ) {
        const call = cfg.blocks[b].last;
        if (!kernels(e) || reported.has(call)) continue;
        const inner = reach(e.to, (x) => x.kind === 'call');
        const made = ctx.sites.filter((site) => inner[cfg.blockOf[site.instr]]);
        if (!made.length) continue;
        reported.add(call);
        const callee = nameAt(ctx, program.instrs[cfg.blocks[e.to].first].address);
        ctx.report.add({
          code: 'hypercall-from-ring3', at: program.instrs[call],
          message: `ring-3 code (${region.name}) calls ${callee}, which the kernel calls too and which makes ${made.length === 1 ? hypercallName(made[0]) : `${made.length} hypercalls`}: ${gate}`,
          related: [...made.slice(0, 4).map((site) => ({ span: program.instrs[site.instr].user, message: `${hypercallName(site)} is made here` })), annotated],
        });
      }
    }
  }
}
