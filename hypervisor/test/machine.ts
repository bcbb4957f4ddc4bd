// Test machines: a guest program assembled with xenolab's assembler, loaded at CODE in a
// small memory, with optional page tables, ready to run at a chosen ring.

import { assemble, flatBinary } from '../../asm/src/assembler.js';
import { Cpu, CR0_PG, ESP, PTE_P, PTE_U, PTE_W, type StopReason } from '../src/cpu.js';
import { PhysicalMemory } from '../src/memory.js';

export const CODE = 0x10000;
export const DATA = 0x20000;
export const STACK_TOP = 0x30000;
/** Page directory and tables live here (out of the guest's way). */
export const PAGE_DIR = 0x80000;
const FRAMES = 256; // 1 MiB

export interface TestMachine {
  cpu: Cpu;
  mem: PhysicalMemory;
  /** Sets (or with null removes) the mapping of one page; flags are PTE bits. */
  map(linear: number, physical: number | null, flags?: number): void;
  run(budget?: number): StopReason;
}

/** Selectors for ring 0, 1 and 3 (flat descriptors; only the RPL matters to this CPU). */
export const RING_CS = [0x08, 0x19, 0, 0x23];
export const RING_SS = [0x10, 0x21, 0, 0x2b];

export function machine(source: string, opts: { ring?: number; paging?: boolean; iopl?: number } = {}): TestMachine {
  const r = assemble({ path: 'guest.asm', text: `bits 32\norg ${CODE}\n${source}\n` });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const mem = new PhysicalMemory(FRAMES);
  mem.load(CODE, flatBinary(r.image));
  const cpu = new Cpu(mem);
  const ring = opts.ring ?? 1;
  cpu.setSegments(RING_CS[ring], RING_SS[ring]);
  cpu.setFlags(0x202 | ((opts.iopl ?? 0) << 12));
  cpu.eip = CODE;
  cpu.regs[ESP] = STACK_TOP;
  const map = (linear: number, physical: number | null, flags = PTE_P | PTE_W | PTE_U) => {
    const pde = PAGE_DIR + (linear >>> 22) * 4;
    let table = mem.read32(pde) & ~0xfff;
    if (!table) {
      table = PAGE_DIR + 0x1000 * (1 + (linear >>> 22));
      mem.write32(pde, table | PTE_P | PTE_W | PTE_U);
    }
    mem.write32(table + ((linear >>> 12) & 0x3ff) * 4, physical === null ? 0 : physical | flags);
  };
  if (opts.paging ?? true) {
    // Identity map of the first 512 KiB, user and writable; page tables stay unmapped.
    for (let a = 0; a < PAGE_DIR; a += 0x1000) map(a, a);
    cpu.cr3 = PAGE_DIR;
    cpu.cr0 |= CR0_PG;
  }
  return { cpu, mem, map, run: (budget = 100_000) => cpu.run(budget) };
}

/** The address of a label in the assembled program. */
export function labelAddress(source: string, label: string): number {
  const r = assemble({ path: 'guest.asm', text: `bits 32\norg ${CODE}\n${source}\n` });
  const s = r.image.symbols.find((x) => x.name === label);
  if (!s) throw new Error(`no label ${label}`);
  return s.value;
}
