// Inlay hints from the analysis: the hypercall a `mov eax, N` selects, where that value of
// eax reaches an `int 0x82` (the mov sets eax on every path to the hypercall), and the
// struct field a `[reg + offset]` operand reaches where the analysis knows what reg
// points at (start_info, from esi at the entry point, through copies, saved variables and
// pointer arithmetic). Only for code written in the document itself; nothing is hinted
// that the analysis does not know, and nothing the operand already names.

import { xenStruct, type MemoryOperand as DecodedMemory, type StructField } from '../../../isa/src/index.js';
import type { Context } from '../analysis/context.js';
import { EAX, gpr } from '../analysis/effects.js';
import type { Instr } from '../analysis/program.js';
import { positionOf } from '../analysis/text.js';
import type { Position } from './symbols.js';

export interface Hint {
  position: Position;
  label: string;
  tooltip: string;
  kind: 'hypercall' | 'field';
}

/** Hints for the document's lines first..last (0-based, inclusive). */
export function inlayHints(ctx: Context, first = 0, last = Infinity): Hint[] {
  const file = ctx.program.files[0];
  if (!file) return [];
  const inRange = (ins: Instr) => {
    if (!ins.direct || ins.statement.file !== 0) return false;
    const line = positionOf(file, ins.statement.start).line;
    return line >= first && line <= last;
  };
  const out: Hint[] = [];

  // mov eax, N → the hypercall N names, where that eax reaches int 0x82
  const hinted = new Set<number>();
  for (const site of ctx.sites) {
    const h = site.hypercall;
    const def = site.state?.def[EAX] ?? -1;
    if (site.via !== 'int' || !h || def < 0 || hinted.has(def)) continue;
    const mov = ctx.program.instrs[def];
    const [dst, src] = mov.insn.operands;
    if (mov.mnemonic !== 'mov' || dst?.type !== 'reg' || dst.reg.name !== 'eax' || src?.type !== 'imm' || src.extended >>> 0 !== site.number) continue;
    if (!inRange(mov)) continue;
    const st = mov.statement;
    if (file.text.slice(st.start, st.end).includes(`__HYPERVISOR_${h.name}`)) continue;
    hinted.add(def);
    out.push({
      position: positionOf(file, st.end), label: h.name, kind: 'hypercall',
      tooltip: `hypercall ${h.number}: ${h.name}(${h.args.map((a) => `${a.cType} ${a.name}`).join(', ')}) — ${h.doc}`,
    });
  }

  // [reg + offset] → the struct field, where reg is a known pointer
  const { cfg, df } = ctx;
  for (const b of cfg.blocks) {
    let any = false;
    for (let i = b.first; i <= b.last && !any; i++) any = memoryOperand(ctx.program.instrs[i]) !== null && inRange(ctx.program.instrs[i]);
    if (!any) continue;
    df.replay(b.id, (ins, s) => {
      const m = memoryOperand(ins);
      if (!m || !inRange(ins)) return;
      const v = s.regs[gpr(m.decoded.base!)];
      if (typeof v !== 'string' || v[0] !== 'S') return; // S<n>: start_info + n
      const fields = fieldsAt('start_info', (Number(v.slice(1)) + m.decoded.disp) | 0);
      const written = file.text.slice(m.source.start, m.source.end);
      if (!fields || fields.written.some((n) => written.includes(n))) return;
      out.push({ position: positionOf(file, m.source.end), label: fields.names.join(' | '), kind: 'field', tooltip: fields.tooltip });
    });
  }
  return out.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
}

/** The one memory operand of an instruction written as `[base + disp]`, decoded and as written. */
function memoryOperand(ins: Instr): { decoded: DecodedMemory; source: { start: number; end: number } } | null {
  const st = ins.statement;
  if (st.kind !== 'instruction') return null;
  const written = st.operands.filter((o) => o.kind === 'mem');
  const decoded = ins.insn.operands.filter((o): o is DecodedMemory => o.type === 'mem');
  if (written.length !== 1 || decoded.length !== 1) return null;
  const d = decoded[0];
  if (!d.base || d.base.cls !== 'r32' || d.index || gpr(d.base) < 0) return null;
  return { decoded: d, source: written[0] };
}

/** The field (all members of a union there) at a byte offset of a struct, named `struct.field` (+ the offset into it). */
function fieldsAt(struct: string, offset: number): { names: string[]; written: string[]; tooltip: string } | null {
  const layout = xenStruct(struct);
  if (!layout || offset < 0 || offset >= layout.size) return null;
  const hits = layout.fields.filter((f) => offset >= f.offset && offset < f.offset + Math.max(1, f.size));
  if (hits.length === 0) return null;
  const name = (f: StructField) => `${struct}.${f.name}${offset > f.offset ? `+${offset - f.offset}` : ''}`;
  return {
    names: hits.map(name),
    written: hits.map((f) => `${struct}.${f.name}`),
    tooltip: hits.map((f) => `${struct}.${f.name} (offset ${f.offset}, ${f.cType}): ${f.doc}`).join('\n'),
  };
}
