import { test } from 'vitest';
import { analyze } from '../../src/analysis/index.js';
import { assemble, withBuiltins } from '../../../asm/src/index.js';
import { buildProgram, buildCfg, analyzeDataflow, hypercallSites } from '../../src/analysis/index.js';
function guest(lines: number): string {
  const out = ['bits 32', '%include "xen.inc"', 'org 0xc0000000', 'section .text', 'global _start', '_start:', '    mov esp, stack_top'];
  let n = 0;
  while (out.length < lines - 40) {
    out.push(`f${n}:`, '    push ebp', '    mov ebp, esp', `    mov ecx, ${n % 17 + 1}`, `.loop${n}:`, `    mov eax, [table + ecx * 4]`, '    add eax, ebx',
      `    mov [table + ecx * 4], eax`, `    dec ecx`, `    jnz .loop${n}`, `    mov ebx, CONSOLEIO_write`, `    mov ecx, 4`, `    mov edx, table`, '    HYPERCALL console_io', '    pop ebp', '    ret', '');
    n++;
  }
  out.push('section .data', 'table: times 64 dd 0', 'section .bss', '    resb 8192', 'stack_top:');
  return out.join('\n') + '\n';
}
test('perf', () => {
  const text = guest(10000);
  const provider = withBuiltins({ read: () => null });
  for (let k = 0; k < 8; k++) {
    const t0 = performance.now();
    const r = assemble({ path: '/g.xasm', text, provider });
    const t1 = performance.now();
    const p = buildProgram(r); const t2 = performance.now();
    const c = buildCfg(p); const t3 = performance.now();
    const d = analyzeDataflow(c); const t4 = performance.now();
    hypercallSites(d); const t5 = performance.now();
    const f = analyze({ path: '/g.xasm', text, provider }, {}, r); const t6 = performance.now();
    console.log(`asm ${(t1-t0).toFixed(1)} prog ${(t2-t1).toFixed(1)} cfg ${(t3-t2).toFixed(1)} df ${(t4-t3).toFixed(1)} sites ${(t5-t4).toFixed(1)} analyze(all, reusing asm) ${(t6-t5).toFixed(1)} findings ${f.findings.length} instrs ${p.instrs.length} blocks ${c.blocks.length}`);
  }
});
