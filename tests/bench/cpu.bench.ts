// Benchmark: guest MIPS of the CPU (ring 1, paging on, breakpoints armed on another page,
// full flags) on three workloads, next to a bare reference dispatch loop (a `switch` over
// an Int32Array program, registers in an Int32Array) run in the same process,
// interleaved. Target: >= 0.35x the reference (stretch 0.5x) as the CPU runs by default
// (compiled blocks); the interpreter alone is printed for context.

import { assemble, flatBinary } from '../../asm/src/assembler.js';
import { Cpu, CR0_PG, ESP, PTE_P, PTE_U, PTE_W } from '../../hypervisor/src/cpu.js';
import { PhysicalMemory } from '../../hypervisor/src/memory.js';

const ROUNDS = 7;
const INSNS = 20_000_000;
const TARGET = 0.35;

/** The reference: add r0,r1; xor r1,r0; add r2,1; dec r3; jnz loop (5 instructions per iteration). */
function referenceLoop(iterations: number): number {
  const prog = new Int32Array([0, 0, 1, 0, 1, 1, 0, 0, 2, 2, 0, 1, 3, 3, 0, 0, 4, 3, 0, 0, 5, 0, 0, 0]);
  const r = new Int32Array(8);
  r[0] = 1; r[1] = 3; r[3] = iterations;
  let pc = 0;
  for (;;) {
    const i = pc << 2;
    switch (prog[i]) {
      case 0: r[prog[i + 1]] = (r[prog[i + 1]] + r[prog[i + 2]]) | 0; pc++; break;
      case 1: r[prog[i + 1]] ^= r[prog[i + 2]]; pc++; break;
      case 2: r[prog[i + 1]] = (r[prog[i + 1]] + prog[i + 3]) | 0; pc++; break;
      case 3: r[prog[i + 1]] = (r[prog[i + 1]] - 1) | 0; pc++; break;
      case 4: pc = r[prog[i + 1]] !== 0 ? 0 : pc + 1; break;
      default: return r[0];
    }
  }
}

const WORKLOADS: { name: string; perIteration: number; source: string }[] = [
  {
    name: 'register ALU loop',
    perIteration: 5,
    source: 'mov eax, 1\nmov ebx, 3\nmov ecx, ITER\nl: add eax, ebx\nxor ebx, eax\nadd edx, 1\ndec ecx\njnz l\nint 0x82',
  },
  {
    name: 'memory copy through paging',
    perIteration: 8,
    // 256 KiB copied between two regions mapped page by page, again and again
    source: 'mov ebp, ITER\nouter: mov esi, 0x400000\nmov edi, 0x440000\nmov ecx, 0x10000\nl: mov eax, [esi]\nmov [edi], eax\nadd esi, 4\nadd edi, 4\ndec ecx\njnz l\ndec ebp\njnz outer\nint 0x82',
  },
  {
    name: 'call/ret-heavy code',
    perIteration: 8,
    source: 'mov ecx, ITER\nl: push ecx\ncall f\npop ecx\ndec ecx\njnz l\nint 0x82\nf: lea eax, [eax + ecx*2]\nret',
  },
];

function guest(source: string, iterations: number, jit: boolean): Cpu {
  const r = assemble({ path: 'bench.asm', text: `bits 32\norg 0x10000\n${source.replace('ITER', String(iterations))}\n` });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const mem = new PhysicalMemory(2048);
  mem.load(0x10000, flatBinary(r.image));
  const cpu = new Cpu(mem);
  cpu.jit = jit;
  // Identity-mapped page tables at 0x100000 for the first 8 MiB, page by page.
  const pd = 0x100000;
  for (let page = 0; page < 2048; page++) {
    const table = pd + 0x1000 * (1 + (page >>> 10));
    mem.write32(pd + (page >>> 10) * 4, table | PTE_P | PTE_W | PTE_U);
    mem.write32(table + (page & 1023) * 4, (page << 12) | PTE_P | PTE_W | PTE_U);
  }
  cpu.cr3 = pd;
  cpu.cr0 |= CR0_PG;
  cpu.setSegments(0x19, 0x21);
  cpu.setFlags(0x202);
  cpu.eip = 0x10000;
  cpu.regs[ESP] = 0x300000;
  cpu.addBreakpoint(0x7ff000); // armed, on a page the workloads never run
  return cpu;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

export function run(): void {
  console.log(`CPU, ${ROUNDS} rounds of ~${INSNS / 1e6}M guest instructions per workload, interleaved with the reference loop, node ${process.version}`);
  for (const jit of [true, false]) for (const w of WORKLOADS) {
    const ours: number[] = [];
    const ref: number[] = [];
    for (let round = -1; round < ROUNDS; round++) {
      const cpu = guest(w.source, Math.floor(INSNS / w.perIteration / (w.name.startsWith('memory') ? 0x10000 : 1)) || 1, jit);
      let t = performance.now();
      const stop = cpu.run(1e12);
      const ms = performance.now() - t;
      if (stop.kind !== 'hypercall') throw new Error(`${w.name}: stopped with ${JSON.stringify(stop)}`);
      t = performance.now();
      referenceLoop(INSNS / 5);
      const refMs = performance.now() - t;
      if (round < 0) continue;
      ours.push(cpu.instructions / ms / 1000);
      ref.push(INSNS / refMs / 1000);
    }
    const o = stats(ours), r = stats(ref);
    const ratio = o.median / r.median;
    const verdict = jit ? `   target >= ${TARGET}x: ${ratio >= TARGET ? 'met' : 'NOT met'}` : '   (interpreter only, for context)';
    console.log(
      `  ${(jit ? '' : 'interpreted: ') + w.name}`.padEnd(42) +
        `${o.median.toFixed(0).padStart(5)} MIPS (min ${o.min.toFixed(0)}, max ${o.max.toFixed(0)})   reference ${r.median.toFixed(0).padStart(5)} MIPS   ratio ${ratio.toFixed(2)}x${verdict}`,
    );
  }
}
