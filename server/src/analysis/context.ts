// What every rule works from: the program, its control-flow graph, the register dataflow,
// the hypercall sites, and where findings go.

import { instructionText, someLeaf, type Span } from '../../../asm/src/index.js';
import { blocksReached, type Cfg } from './cfg.js';
import type { Dataflow } from './constprop.js';
import { ECX, EBX } from './effects.js';
import type { HypercallSite } from './hypercalls.js';
import type { Instr, Program } from './program.js';
import type { Reporter } from './report.js';
import { onItsLine } from './text.js';

export interface Context {
  program: Program;
  cfg: Cfg;
  df: Dataflow;
  sites: HypercallSite[];
  siteAt: Map<number, HypercallSite>;
  report: Reporter;
}

/**
 * An instruction's text for messages, shortened: as written when all of it is on its
 * statement's line, else (a macro's parameters, %define'd words) as expanded.
 */
export function sourceText(ctx: Context, ins: Instr): string {
  const st = ins.statement;
  const files = ctx.program.files;
  const f = files[st.file];
  const end = onItsLine(files, st).end;
  const own = (s: Span) => s.file === st.file && s.start >= st.start && s.end <= end;
  const elsewhere = (e: Span) => !own(e);
  const whole = f && st.kind === 'instruction' && st.operands.every((o) => own(o) && !(
    o.kind === 'mem' ? someLeaf(o.addr, elsewhere) : o.kind === 'imm' ? someLeaf(o.expr, elsewhere)
      : o.kind === 'farptr' && (someLeaf(o.seg, elsewhere) || someLeaf(o.offset, elsewhere))));
  const text = (whole ? f.text.slice(st.start, end).replace(/\s+/g, ' ').trim() : null)
    ?? instructionText(st, (s) => files[s.file]?.text.slice(s.start, s.end)) ?? ins.mnemonic;
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}


const RING3 = new WeakMap<Context, Uint8Array>();

/** The blocks code annotated `; xenolab: ring3` may run (by jumps and calls): a flag per block. */
export function ring3Blocks(ctx: Context): Uint8Array {
  let out = RING3.get(ctx);
  if (out) return out;
  const { program, cfg } = ctx;
  const starts = program.ring3.flatMap((region) => {
    const start = program.byAddress.get(region.start);
    return start === undefined ? [] : [cfg.blockOf[start]];
  });
  out = blocksReached(cfg, starts, () => true);
  RING3.set(ctx, out);
  return out;
}

/** The name of the code or data at an address: a label there, else hex. */
export function nameAt(ctx: Context, address: number): string {
  const labels = ctx.program.labelsAt.get(address >>> 0) ?? [];
  const plain = labels.find((s) => !s.name.includes('.')) ?? labels[0];
  return plain ? plain.name : hex(address);
}

/** An address inside the image's sections, or just past one (a label at a section's end: stack_top). */
export function inImage(ctx: Context, v: number): boolean {
  const a = v >>> 0;
  return ctx.program.result.image.sections.some((x) => x.alloc && a >= x.vaddr && a <= x.vaddr + x.size);
}

export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** The hypercall sites of one hypercall, with its ebx and ecx. */
export function sitesOf(ctx: Context, name: string): { site: HypercallSite; ebx: number | null; ecx: number | null }[] {
  return ctx.sites.filter((s) => s.hypercall?.name === name).map((site) => ({
    site,
    ebx: typeof site.state?.regs[EBX] === 'number' ? (site.state.regs[EBX] as number) : null,
    ecx: typeof site.state?.regs[ECX] === 'number' ? (site.state.regs[ECX] as number) : null,
  }));
}

/** The addresses the program maps shared_info at (update_va_mapping of start_info.shared_info's frame), in program order. */
export function sharedInfoMappings(ctx: Context): number[] {
  return sitesOf(ctx, 'update_va_mapping').filter(({ site, ebx }) => ebx !== null && site.state?.regs[ECX] === 'H').map(({ ebx }) => ebx!);
}
