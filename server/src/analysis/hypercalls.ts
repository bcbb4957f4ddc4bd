// Hypercall sites and what the ABI says about them: where a program enters Xen (int 0x82
// with eax, or a call / jump into the hypercall page, whose offset names the hypercall),
// which registers each hypercall reads (for some, depending on the command), and which
// constants are its commands.

import {
  HYPERCALL_ARG_REGISTERS, hypercallByNumber, XEN_CONSTANT_GROUPS, xenConstant, xenConstantGroup,
  type Hypercall, type MemoryOperand, type XenConstant,
} from '../../../isa/src/index.js';
import type { Dataflow } from './constprop.js';
import type { Context } from './context.js';
import { EAX, EBP, EBX, ECX, ESP, gpr } from './effects.js';
import type { Instr, Program } from './program.js';
import { addressValue, hypercallNumberOf, hypercallPageOffset, isTag, STUB_SIZE, type State } from './values.js';
export { ARG_REGS, STUB_SIZE } from './values.js';


export interface HypercallSite {
  /** The int 0x82, or the call / jmp into the hypercall page. */
  instr: number;
  via: 'int' | 'page-call' | 'page-jump';
  /** The hypercall number when it is known (a constant eax, or the stub's offset). */
  number: number | null;
  hypercall: Hypercall | undefined;
  /** A call into the hypercall page that is not at a stub's start: its offset in the page. */
  misaligned: number | null;
  /** Registers just before it (null when the code is never reached). */
  state: State | null;
}

export function hypercallSites(df: Dataflow): HypercallSite[] {
  const { cfg } = df;
  const out: HypercallSite[] = [];
  const hp = cfg.program.hypercallPage;
  const instrs = cfg.program.instrs;
  for (let i = 0; i < instrs.length; i++) {
    const ins = instrs[i];
    if (!ins.hypercall) continue;
    const state = df.before(ins.index);
    const via: HypercallSite['via'] = ins.mnemonic === 'int' ? 'int' : ins.flow.kind === 'call' ? 'page-call' : 'page-jump';
    const number = hypercallNumberOf(ins, state?.regs[EAX] ?? null, hp);
    const off = hypercallPageOffset(ins, hp);
    const misaligned = off !== null && off % STUB_SIZE !== 0 ? off : null;
    out.push({ instr: ins.index, via, number, hypercall: number === null ? undefined : hypercallByNumber(number), misaligned, state });
  }
  return out;
}

/** The hypercall's name for messages: `mmu_update` or `hypercall 77`. */
export function hypercallName(site: HypercallSite): string {
  return site.hypercall ? site.hypercall.name : site.number !== null ? `hypercall ${site.number}` : 'hypercall';
}

// ---------------------------------------------------------------------------------------
// Commands

export interface CommandSpec {
  /** The constant group its commands come from. */
  group: string;
  /** Only the constants of the group with this prefix are commands. */
  prefix: string;
  /** The command is the low bits of the register (memory_op keeps a continuation above them). */
  mask?: number;
  /** Where the command is: ebx, or the `cmd` word of each request struct ebx points to. */
  where: 'ebx' | 'struct';
  /** For 'struct': the size of one request. */
  stride?: number;
  /** Commands of 64-bit guests, and what Xen does with them from a 32-bit one. */
  refused?: Readonly<Record<string, { for: string; why: string; unlessPae?: true }>>;
  /** Only these of the group (a legacy hypercall that knows fewer commands), and the hypercall that takes them all. */
  only?: readonly string[];
  successor?: string;
}

/** memory_op: the command is in the low MEMOP_EXTENT_SHIFT (6) bits, the start extent above. */
const MEMOP_CMD_MASK = 0x3f;

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  sched_op: { group: 'SCHEDOP', prefix: 'SCHEDOP_', where: 'ebx' },
  // public/sched.h: "supporting only the commands yield, block and shutdown" (others: -ENOSYS)
  sched_op_compat: { group: 'SCHEDOP', prefix: 'SCHEDOP_', where: 'ebx', only: ['SCHEDOP_yield', 'SCHEDOP_block', 'SCHEDOP_shutdown'], successor: 'sched_op' },
  event_channel_op: { group: 'EVTCHNOP', prefix: 'EVTCHNOP_', where: 'ebx' },
  memory_op: { group: 'XENMEM', prefix: 'XENMEM_', mask: MEMOP_CMD_MASK, where: 'ebx' },
  xen_version: { group: 'XENVER', prefix: 'XENVER_', where: 'ebx' },
  console_io: { group: 'CONSOLEIO', prefix: 'CONSOLEIO_', where: 'ebx' },
  grant_table_op: { group: 'GNTTABOP', prefix: 'GNTTABOP_', where: 'ebx' },
  vcpu_op: { group: 'VCPUOP', prefix: 'VCPUOP_', where: 'ebx' },
  physdev_op: { group: 'PHYSDEVOP', prefix: 'PHYSDEVOP_', where: 'ebx' },
  callback_op: { group: 'CALLBACK', prefix: 'CALLBACKOP_', where: 'ebx' },
  nmi_op: { group: 'XENNMI', prefix: 'XENNMI_', where: 'ebx' },
  vm_assist: { group: 'VMASST', prefix: 'VMASST_CMD_', where: 'ebx' },
  mmuext_op: {
    group: 'MMUEXT', prefix: 'MMUEXT_', where: 'struct', stride: 12,
    refused: {
      MMUEXT_PIN_L3_TABLE: {
        for: 'PAE page tables', unlessPae: true,
        why: 'Xen ignores it for a kernel with two-level tables (no PAE_MODE note saying yes): the table is not pinned. Pin the page directory with MMUEXT_PIN_L2_TABLE.',
      },
      MMUEXT_PIN_L4_TABLE: {
        for: '64-bit guests',
        why: 'Xen ignores it for a 32-bit guest, whose tables have no L4: the table is not pinned. Pin the root the guest loads (MMUEXT_PIN_L3_TABLE for PAE, MMUEXT_PIN_L2_TABLE for 2-level tables).',
      },
      MMUEXT_NEW_USER_BASEPTR: {
        for: '64-bit guests',
        why: 'a 32-bit Xen has no such command (-ENOSYS): user and kernel share one set of page tables, switched with MMUEXT_NEW_BASEPTR.',
      },
    },
  },
};

export function commandsOf(spec: CommandSpec): readonly XenConstant[] {
  let list = COMMANDS_OF.get(spec);
  if (!list) {
    list = (xenConstantGroup(spec.group)?.constants ?? []).filter((k) => k.name.startsWith(spec.prefix) && (!spec.only || spec.only.includes(k.name)));
    COMMANDS_OF.set(spec, list);
  }
  return list;
}

/** commandsOf by spec (the rules ask at every hypercall site: not a new filtered list each time). */
const COMMANDS_OF = new WeakMap<CommandSpec, readonly XenConstant[]>();

/** The group each Xen constant belongs to, by name. */
export const GROUP_OF: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const g of XEN_CONSTANT_GROUPS) for (const k of g.constants) if (!m.has(k.name)) m.set(k.name, g.id);
  return m;
})();

/** The command name for a value, or undefined. */
export function commandName(spec: CommandSpec, value: number): string | undefined {
  const v = spec.mask !== undefined ? value & spec.mask : value;
  return commandsOf(spec).find((k) => k.value === v)?.name;
}

// ---------------------------------------------------------------------------------------
// Arguments the hypercall reads

const cmd = (name: string) => xenConstant(name)?.value ?? -1;

/**
 * How many of the hypercall's argument registers it reads, given its command (null when the
 * command is not known). Commands that take no argument pointer need fewer.
 */
export function argumentsRead(h: Hypercall, command: number | null): number {
  const all = h.args.length;
  switch (h.name) {
    case 'sched_op':
    case 'sched_op_compat':
      return command === null || command === cmd('SCHEDOP_yield') || command === cmd('SCHEDOP_block') ? 1 : all;
    case 'xen_version':
      return command === null || command === cmd('XENVER_version') || command === cmd('XENVER_pagesize') ? 1 : all;
    case 'vcpu_op':
      return command === null || ['VCPUOP_up', 'VCPUOP_down', 'VCPUOP_is_up', 'VCPUOP_stop_periodic_timer', 'VCPUOP_stop_singleshot_timer', 'VCPUOP_send_nmi']
        .some((n) => cmd(n) === command) ? Math.min(2, all) : all;
    case 'memory_op':
      return command === null || (command & MEMOP_CMD_MASK) === cmd('XENMEM_maximum_ram_page') ? 1 : all;
    case 'nmi_op':
      return command === null || command === cmd('XENNMI_unregister_callback') ? 1 : all;
    default:
      return all;
  }
}

export function argName(h: Hypercall, i: number): string {
  return `${HYPERCALL_ARG_REGISTERS[i]} (${h.args[i]?.name ?? `argument ${i + 1}`})`;
}

/** The page-table hypercalls that write one entry per call, and where their count is. */
export const PT_WRITERS: Readonly<Record<string, { countReg: number | null }>> = {
  mmu_update: { countReg: ECX },
  update_va_mapping: { countReg: null },
  update_va_mapping_otherdomain: { countReg: null },
};

/**
 * The page an update_va_mapping call maps, when the address is a constant. Calls that map
 * one page again and again are no batch: in one, only the last mapping would be left, and
 * what the code reads or writes through each mapping in between could not be done.
 */
export function mappedPage(site: HypercallSite): number | null {
  const name = site.hypercall?.name;
  if (name !== 'update_va_mapping' && name !== 'update_va_mapping_otherdomain') return null;
  const va = site.state?.regs[EBX];
  return typeof va === 'number' ? (va & ~0xfff) >>> 0 : null;
}

const STRING = /^(movs|stos|lods|cmps|scas|ins|outs)[bwd]$/;

/**
 * An instruction that may read or write memory through what page-table calls change: a
 * string instruction (copying or clearing a page through a mapping), an access to a
 * constant address outside the program's own data (a window the calls map: a page-sized
 * object, or an address outside the image), or an access whose address is not a constant.
 * Not the stack (esp, or ebp when it was set from esp), Xen's own area (the M2P table),
 * and not a read of a table the calls do not remap: start_info, Xen's frame list
 * (mfn_list), or the program's own data (its variables and requests).
 */
export function usesMappedMemory(ctx: Context, ins: Instr): boolean {
  if (STRING.test(ins.mnemonic)) return true;
  if (ins.mnemonic === 'lea') return false;
  let s: State | null | undefined;
  for (const m of ins.insn.operands) {
    if (m.type !== 'mem') continue;
    s ??= ctx.df.before(ins.index);
    if (!s) return true;
    const at = addressValue(m, s.regs);
    if (at !== null) {
      if (inOwnData(ctx, at >>> 0) || at >>> 0 >= XEN_AREA) continue;
      return true;
    }
    if (onStack(ctx, m, s)) continue;
    if (ins.fx.store === m) return true;
    const base = m.base ? s.regs[gpr(m.base)] : null;
    if (!(isTag(base, 'S') || isTag(base, 'F') || inOwnData(ctx, m.disp >>> 0))) return true;
  }
  return false;
}

/** The lowest start of Xen's area of the address space (PAE's): the guest maps nothing there. */
const XEN_AREA = xenConstant('HYPERVISOR_VIRT_START_PAE')?.value ?? 0xf5800000;

/**
 * An address in the program's own data: a variable or table it reads. Not in a statement
 * that makes a whole page (`resb 4096`, `times 4096 db 0`): that may be a window the calls
 * map frames into.
 */
function inOwnData(ctx: Context, address: number): boolean {
  if (!ctx.program.result.image.sections.some((x) => x.alloc && address >= x.vaddr && address < x.vaddr + x.size)) return false;
  return !pageObjects(ctx.program).some(([from, to]) => address >= from && address < to);
}

const PAGE_OBJECTS = new WeakMap<Program, [number, number][]>();

/** The statements of data or space that hold a whole page, as [start, end) addresses. */
function pageObjects(program: Program): [number, number][] {
  let out = PAGE_OBJECTS.get(program);
  if (out) return out;
  out = [];
  const found = out;
  program.result.eachRow((row) => {
    const size = row.to - row.from + row.reserved;
    if (size < 0x1000 || row.node.statement?.kind === 'directive') return;
    const from = row.address >>> 0;
    if (((from + 0xfff) & ~0xfff) + 0x1000 <= from + size) found.push([from, from + size]);
  });
  PAGE_OBJECTS.set(program, out);
  return out;
}

/** A memory operand based on esp, or on ebp set from esp (a frame pointer). */
function onStack(ctx: Context, m: MemoryOperand, s: State): boolean {
  const base = m.base ? gpr(m.base) : -1;
  if (base === ESP) return true;
  if (base !== EBP || s.def[EBP] < 0) return false;
  const ops = ctx.program.instrs[s.def[EBP]].insn.operands;
  return ops.length === 2 && ops[1].type === 'reg' && ops[1].reg.cls === 'r32' && gpr(ops[1].reg) === ESP;
}

/** A count at most this small, made again and again, should have been one batch. */
export const SMALL_BATCH = 4;

/** How many entries one call of a page-table hypercall writes, if it is a small constant (else null). */
export function singleEntryCount(site: HypercallSite): number | null {
  const h = site.hypercall;
  if (!h) return null;
  const w = PT_WRITERS[h.name];
  if (!w) return null;
  if (w.countReg === null) return 1;
  const v = site.state?.regs[w.countReg];
  return typeof v === 'number' && v >= 1 && v <= SMALL_BATCH ? v : null;
}
