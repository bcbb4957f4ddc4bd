// pt-direct-store and hypervisor-hole-store: stores into memory a PV guest may not write
// directly: its page tables (Xen maps them read-only and validates every change made
// through mmu_update), and the top of the address space, which is Xen's.

import { xenConstant, XEN_ELFNOTES } from '../../../../isa/src/index.js';
import { hex, type Context } from '../context.js';
import { ECX, EDI, gpr, GPR_NAMES } from '../effects.js';
import type { Instr } from '../program.js';
import { addressOf, isTag, type State } from '../values.js';

/** The hypervisor's reserved top of the address space and its machine-to-physical table: non-PAE (xenolab's), and PAE. */
const LAYOUTS = {
  nonPae: { name: 'HYPERVISOR_VIRT_START', start: k('HYPERVISOR_VIRT_START'), m2p: [k('MACH2PHYS_VIRT_START'), k('MACH2PHYS_VIRT_END')] },
  pae: { name: 'HYPERVISOR_VIRT_START_PAE', start: k('HYPERVISOR_VIRT_START_PAE'), m2p: [k('MACH2PHYS_VIRT_START_PAE'), k('MACH2PHYS_VIRT_END_PAE')] },
};
function k(name: string): number {
  return xenConstant(name)!.value;
}

const PAE_MODE = XEN_ELFNOTES.find((n) => n.name === 'XEN_ELFNOTE_PAE_MODE')!.value;

/** A kernel that runs with PAE has PAE's hole. */
type Layout = (typeof LAYOUTS)['pae'];

/** The kernel's PAE_MODE note says it runs with PAE ("yes", "yes[extended-cr3]", "bimodal"). */
export function paeKernel(ctx: Context): boolean {
  const note = ctx.program.result.image.notes.find((n) => n.name === 'Xen' && n.type === PAE_MODE);
  const mode = note ? String.fromCharCode(...note.desc).replace(/\0.*$/s, '') : '';
  return mode.startsWith('yes') || mode === 'bimodal';
}

function layoutOf(ctx: Context): Layout {
  return paeKernel(ctx) ? LAYOUTS.pae : LAYOUTS.nonPae;
}

export function checkStores(ctx: Context): void {
  const { program, cfg, df } = ctx;
  const layout = layoutOf(ctx);
  for (const blk of cfg.blocks) {
    let stores = false;
    for (let i = blk.first; i <= blk.last && !stores; i++) stores = program.instrs[i].fx.store !== null;
    if (stores) df.replay(blk.id, (ins, s) => {
      if (ins.fx.store) checkStore(ctx, ins, s, layout);
    });
  }
}

function checkStore(ctx: Context, ins: Instr, s: State, layout: Layout): void {
  const { program } = ctx;
  const store = ins.fx.store!;
  let known: number;
  let full: number | null;
  let indexed = false;
  let ptReg = -1;
  let region = -1;
  if (store === 'string') {
    const v = s.regs[EDI];
    if (v === 'P') ptReg = EDI;
    if (isTag(v, 'T')) region = Number(v.slice(1));
    if (typeof v !== 'number') {
      if (ptReg >= 0) reportPt(ctx, ins, s, ptReg);
      else if (region >= 0) reportRegion(ctx, ins, region);
      return;
    }
    known = full = v;
  } else {
    const a = addressOf(store, s.regs);
    full = a.value;
    known = a.known;
    indexed = a.unknownIndex && !a.unknownBase;
    for (const r of [store.base, store.index]) {
      if (!r || r.cls !== 'r32') continue;
      const v = s.regs[gpr(r)];
      if (v === 'P') ptReg = gpr(r);
      if (isTag(v, 'T')) region = Number(v.slice(1));
    }
    // pt_base plus the tables' size (nr_pt_frames pages) is past the tables
    if (ptReg >= 0 && a.tags.includes('M')) ptReg = -1;
  }
  if (ptReg >= 0) {
    reportPt(ctx, ins, s, ptReg);
    return;
  }
  if (region < 0) {
    const i = program.pageTables.findIndex((p) => known >= p.start && known < p.end);
    const p = program.pageTables[i];
    if (p && (full !== null || indexed || (store !== 'string' && (store.disp >>> 0) >= p.start && (store.disp >>> 0) < p.end))) region = i;
  }
  if (region >= 0) {
    reportRegion(ctx, ins, region);
    return;
  }
  // an index with a small negative displacement ([eax*4 - 4]) wraps around: not the hole
  let hole = full !== null ? full : indexed && known < 0xffff0000 ? known : null;
  // a store that starts below the hole and runs into it (upwards: a string store after std
  // runs down): the first byte in it
  if (full !== null && full < layout.start && !runsDown(ctx, ins) && full + storeBytes(ins, s) > layout.start) hole = layout.start;
  if (hole !== null && hole >= layout.start) {
    const where = full === null ? `store to ${hex(hole)} plus an index`
      : full !== hole ? `store at ${hex(full)} of ${storeBytes(ins, s)} bytes, which runs into ${hex(hole)}` : `store to ${hex(hole)}`;
    const m2p = hole >= layout.m2p[0] && hole < layout.m2p[1];
    ctx.report.add({
      code: 'hypervisor-hole-store', at: ins,
      message: `${where}, in the hypervisor's reserved top of the address space (from ${layout.name} = ${hex(layout.start)}): ${m2p
        ? 'this is the machine-to-physical table, which guests may only read; update it with mmu_update MMU_MACHPHYS_UPDATE.'
        : 'Xen owns these mappings and the guest cannot write them; this faults.'}`,
    });
  }
}

/** Bytes a store writes from its address: its operand's size, or a string store's unit times a rep count it knows (ecx). */
function storeBytes(ins: Instr, s: State): number {
  const store = ins.fx.store!;
  if (store !== 'string') return store.bits >> 3;
  const unit = STRING_UNIT[ins.mnemonic.slice(-1)] ?? 1;
  const count = s.regs[ECX];
  return ins.insn.prefixes.rep && typeof count === 'number' ? unit * (count >>> 0) : unit;
}

const STRING_UNIT: Readonly<Record<string, number>> = { b: 1, w: 2, d: 4 };

/** A string store after an std in its block (before any cld): it runs down from edi. */
function runsDown(ctx: Context, ins: Instr): boolean {
  if (ins.fx.store !== 'string') return false;
  const { cfg, program } = ctx;
  for (let i = ins.index - 1; i >= cfg.blocks[cfg.blockOf[ins.index]].first; i--) {
    const m = program.instrs[i].mnemonic;
    if (m === 'std') return true;
    if (m === 'cld') return false;
  }
  return false;
}

const READ_ONLY = 'Xen maps page tables read-only, so this faults (with the writable-page-table assist, VMASST_TYPE_writable_pagetables, a store to an L1 table traps into Xen, which makes it, each time; a page directory never). Change entries with mmu_update (MMU_NORMAL_PT_UPDATE), batched.';

function reportRegion(ctx: Context, ins: Instr, i: number): void {
  const region = ctx.program.pageTables[i];
  ctx.report.add({
    code: 'pt-direct-store', at: ins,
    message: `store into ${region.name}, which is annotated as a page table: ${READ_ONLY}`,
    related: [{ span: region.span, message: `${region.name} is annotated \`; xenolab: page-table\`` }],
  });
}

function reportPt(ctx: Context, ins: Instr, s: State, reg: number): void {
  const def = s.def[reg];
  const related = def >= 0 ? [{ span: ctx.program.instrs[def].user, message: `${GPR_NAMES[reg]} gets its page-table address here` }] : [];
  ctx.report.add({
    code: 'pt-direct-store', at: ins,
    message: `store through ${GPR_NAMES[reg]}, a pointer into the page tables Xen built (from start_info.pt_base: the page directory, then the L1 tables): ${READ_ONLY}`,
    related,
  });
}
