// Random and mutated documents never make the analysis throw, hang or report nonsense
// locations; adversarial programs (huge, deeply nested, densely looping) stay bounded.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, type Finding } from '../../src/analysis/index.js';
import { provider, SEEDS } from './util.js';

const REGS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'al', 'cx'];
const CALLS = ['mmu_update', 'update_va_mapping', 'mmuext_op', 'sched_op', 'console_io', 'event_channel_op', 'iret', 'multicall', 'vm_assist'];
const CONSTS = ['0', '1', '3', '11', '99', '0xFC000000', 'SCHEDOP_block', 'MMUEXT_PIN_L1_TABLE', 'EVTCHNOP_send', 'DOMID_SELF', 'page', 'L1', 'L2 + 4'];
const MNEMONICS = ['cli', 'sti', 'hlt', 'pushfd', 'popfd', 'iret', 'ret', 'nop', 'cpuid', 'rep stosd', 'pushad', 'popad', 'cdq', 'leave'];

const reg = fc.constantFrom(...REGS);
const label = fc.integer({ min: 0, max: 12 }).map((n) => `L${n}`);
const value = fc.oneof(fc.constantFrom(...CONSTS), fc.integer({ min: -5, max: 70000 }).map(String));

const line: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(reg, value).map(([r, v]) => `    mov ${r}, ${v}`),
  fc.tuple(reg, reg).map(([a, b]) => `    mov ${a}, ${b}`),
  fc.tuple(fc.constantFrom('add', 'sub', 'xor', 'and', 'or', 'cmp', 'shl', 'imul'), reg, value).map(([m, r, v]) => `    ${m} ${r}, ${v}`),
  fc.tuple(fc.constantFrom('inc', 'dec', 'push', 'pop', 'neg', 'not'), reg).map(([m, r]) => `    ${m} ${r}`),
  fc.tuple(fc.constantFrom('jmp', 'jz', 'jnz', 'jb', 'jae', 'jl', 'jg', 'call', 'loop', 'jecxz'), label).map(([m, l]) => `    ${m} ${l}`),
  label.map((l) => `${l}:`),
  fc.constantFrom(...CALLS).map((c) => `    HYPERCALL ${c}`),
  fc.constantFrom(...CALLS).map((c) => `    HYPERCALL_PAGE_CALL ${c}`),
  fc.constant('    int 0x82'),
  fc.tuple(value, reg).map(([v, r]) => `    mov [${v}], ${r}`),
  fc.tuple(reg, fc.integer({ min: -8, max: 64 }), reg).map(([b, d, r]) => `    mov dword [${b} + ${d}], ${r}`),
  fc.constantFrom(...MNEMONICS).map((m) => `    ${m}`),
  fc.constantFrom('    mov cr3, eax', '    mov eax, cr2', '    invlpg [page]', '    in al, 0x60', '    lgdt [page]'),
  fc.constantFrom('    mov eax, [esi + start_info.pt_base]', '    mov [eax], ebx', '    mov [start_info_ptr], esi', '    mov esi, [start_info_ptr]'),
  fc.constantFrom('L3: ; xenolab: ring3', 'L4: ; xenolab: page-table', '    cli ; xenolab-ignore: all', '    jmp $', '    times 3 nop'),
  fc.constantFrom('%macro M 0', '%endmacro', '    M', '%rep 3', '%endrep', '%if 1', '%endif', '%include "nothing.inc"', 'section .data', 'section .text', 'bits 16', 'bits 32', 'absolute 0x100', 'db 0x0f, 0x0b'),
  fc.string({ maxLength: 30 }),
);

const PROLOGUE = ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page', 'section .text', '_start:'];
const EPILOGUE = ['    jmp $', 'align 4096, db 0', 'hypercall_page: times 4096 db 0', 'page: times 4096 db 0', 'section .bss', 'start_info_ptr: resd 1'];

function check(path: string, text: string, budgetMs: number): Finding[] {
  const t0 = performance.now();
  const { findings } = analyze({ path, text, provider });
  const ms = performance.now() - t0;
  expect(ms, 'analysis time').toBeLessThan(budgetMs);
  const lines = text.split('\n').length;
  for (const f of findings) {
    expect(f.code, f.message).not.toBe('internal');
    if (f.file !== path) continue;
    expect(f.range.start.line).toBeGreaterThanOrEqual(0);
    expect(f.range.end.line).toBeLessThan(lines + 1);
    expect(f.range.start.line * 1e6 + f.range.start.column).toBeLessThanOrEqual(f.range.end.line * 1e6 + f.range.end.column);
    for (const fix of f.fixes) for (const e of fix.edits) expect(e.range.start.line).toBeLessThan(lines + 1);
  }
  return findings;
}

describe('fuzz', () => {
  it('random programs', () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 80 }), (body) => {
      const text = [...PROLOGUE, ...body, ...EPILOGUE].join('\n');
      check('/fuzz/random.xasm', text, 5000);
    }), { numRuns: 150 });
  });

  const seeds = ['pagetables.xasm', 'traps.xasm', 'events.xasm', 'blkfront/blkfront.xasm', 'smp/smp.xasm'].map((s) => readFileSync(join(SEEDS, s), 'utf8'));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), n: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: line }),
    fc.record({ kind: fc.constant('chars' as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
  );
  it('mutated seeds', () => {
    fc.assert(fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 8 }), (which, edits) => {
      let lines = seeds[which].split('\n');
      for (const m of edits) {
        const at = m.at % Math.max(1, lines.length);
        if (m.kind === 'delete') lines.splice(at, m.n);
        else if (m.kind === 'duplicate') lines.splice(at, 0, ...lines.slice(at, at + m.n));
        else if (m.kind === 'swap') {
          const b = m.n % Math.max(1, lines.length);
          [lines[at], lines[b]] = [lines[b], lines[at]];
        } else if (m.kind === 'insert') lines.splice(at, 0, m.text);
        else {
          const l = lines[at] ?? '';
          const col = m.at % (l.length + 1);
          lines[at] = l.slice(0, col) + m.text + l.slice(col);
        }
        lines = lines.filter((l) => l !== undefined);
      }
      check('/fuzz/mutated.xasm', lines.join('\n'), 5000);
    }), { numRuns: 120 });
  });

  it('adversarial programs stay bounded', () => {
    const cases: [string, string][] = [
      ['times', [...PROLOGUE, '    times 300000 nop', ...EPILOGUE].join('\n')],
      ['rep', [...PROLOGUE, '%rep 150000', '    mov eax, 1', '    int 0x82', '%endrep', ...EPILOGUE].join('\n')],
      ['call chain', [...PROLOGUE, ...Array.from({ length: 3000 }, (_, i) => `f${i}:\n    push ebx\n    call f${i + 1}\n    pop ebx\n    ret`), 'f3000: ret', ...EPILOGUE].join('\n')],
      ['recursion', [...PROLOGUE, 'f: push eax', '    call f', '    call g', '    pop eax', '    ret', 'g: call f', '    ret', ...EPILOGUE].join('\n')],
      ['dense back edges', [...PROLOGUE, '    mov ecx, 5', ...Array.from({ length: 3000 }, (_, i) => `L${i}:\n    dec ecx\n    jnz L${(i * 7919) % (i + 1)}\n    mov ebx, 1\n    HYPERCALL update_va_mapping`), ...EPILOGUE].join('\n')],
      ['irreducible', [...PROLOGUE, ...Array.from({ length: 2000 }, (_, i) => `A${i}:\n    cmp eax, ${i}\n    je B${(i * 31) % 2000}\n    jmp B${(i * 17 + 3) % 2000}\nB${i}:\n    inc eax\n    jl A${(i * 13) % 2000}`), ...EPILOGUE].join('\n')],
      ['many pushes', [...PROLOGUE, ...Array.from({ length: 5000 }, (_, i) => (i % 2 ? '    push eax' : `    mov eax, ${i}`)), ...EPILOGUE].join('\n')],
      ['garbage', Array.from({ length: 2000 }, (_, i) => String.fromCharCode(32 + ((i * 7919) % 95)).repeat(i % 40)).join('\n')],
      ['empty', ''],
      ['macro calling itself twice', ['%macro m 0', '    m', '    m', '%endmacro', ...PROLOGUE, '    m', ...EPILOGUE].join('\n')],
      ['exponential macros', ['%macro a0 0', '    nop', '%endmacro', ...Array.from({ length: 30 }, (_, i) => `%macro a${i + 1} 0\n    a${i}\n    a${i}\n%endmacro`), ...PROLOGUE, '    a30', ...EPILOGUE].join('\n')],
    ];
    for (const [name, text] of cases) {
      const findings = check(`/fuzz/${name}.xasm`, text, 15000);
      expect(Array.isArray(findings), name).toBe(true);
    }
  });
});
