// The page-table batching fixes, run: a guest is booted on the simulated Xen (as a debug
// build, which overwrites a hypercall's argument registers) before and after a fix, and
// must print the same, end the same way and leave the same page-table entries (compared
// as pseudo-physical frames and flags, since the fix moves the image's layout), with the
// mmu_update hypercalls of the loop or sequence down to one batch.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../asm/src/index.js';
import { guestImage } from '../../../debugger/src/launch.js';
import { checkInvariants } from '../../../hypervisor/src/xen/invariants.js';
import { Xen } from '../../../hypervisor/src/xen/xen.js';
import { hypercallByName } from '../../../isa/src/index.js';
import { analyze, type Fix } from '../../src/analysis/index.js';
import { applyEdits, FIXTURES, provider, SEEDS } from './util.js';

const MMU_UPDATE = hypercallByName('mmu_update')!.number;
const CONSOLE_IO = hypercallByName('console_io')!.number;
const M2P = 0xfc000000;

interface Run {
  console: string;
  state: unknown;
  mmuUpdates: number;
  ptUpdates: number;
  /** The L1 table `label` when the guest first wrote to the console: per entry, the pseudo-physical frame and the flags. */
  table: string[];
  violations: string[];
}

/** A guest built on a simulated Xen that behaves as a debug build (a fix that relied on a hypercall keeping its argument registers fails there). */
function build(path: string, text: string) {
  const r = assemble({ path, text, provider });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const xen = new Xen(8192);
  xen.clobberArguments = true;
  const built = xen.createDomain(guestImage(r.image), { name: 'batch', memoryKiB: 16384 });
  if ('error' in built) throw new Error(built.error);
  return { xen, d: built.domain, symbol: (name: string) => r.image.symbols.find((s) => s.name === name)!.value };
}

function boot(path: string, text: string, label: string): Run {
  const { xen, d, symbol } = build(path, text);
  const at = symbol(label);
  const violations: string[] = [];
  let table: string[] = [];
  // the isolation invariants after every mmu_update batch (and the first of the unbatched ones)
  let checked = 0;
  xen.onHypercall = (dom, n, args) => {
    if (n === MMU_UPDATE && (args[1] > 1 || checked++ === 0)) violations.push(...checkInvariants(xen.mm, [dom.active.baseMfn, ...dom.active.gdtFrames]));
    if (n !== CONSOLE_IO || table.length) return;
    for (let i = 0; i < 1024; i++) {
      const pte = dom.read32(at + 4 * i)!;
      table.push(pte ? `${i}:${dom.read32(M2P + (pte >>> 12) * 4)}:${(pte & 0xfff).toString(16)}` : `${i}:-`);
    }
  };
  expect(xen.run(d, 500_000_000)).toEqual({ kind: 'ended' });
  return { console: d.consoleText, state: d.state, mmuUpdates: d.counters.hypercalls[MMU_UPDATE], ptUpdates: d.counters.ptUpdates, table, violations };
}

/** The batching fixes offered on a text, by the line of their finding (1-based). */
function batchFixes(path: string, text: string): Map<number, Fix> {
  const out = new Map<number, Fix>();
  for (const f of analyze({ path, text, provider }).findings) {
    if (f.code !== 'unbatched-pt-loop' && f.code !== 'unbatched-pt-sequence') continue;
    const fix = f.fixes.find((x) => !x.title.startsWith('Ignore'));
    if (fix) out.set(f.range.start.line + 1, fix);
  }
  return out;
}

/** Every batching fix applied, one after the other (each offered on the text the one before left). */
function applyAll(path: string, text: string): { text: string; applied: number } {
  let applied = 0;
  for (;;) {
    const [fix] = batchFixes(path, text).values();
    if (!fix) return { text, applied };
    text = applyEdits(text, fix.edits);
    applied++;
  }
}

const same = (a: Run, b: Run) => {
  expect(b.console).toBe(a.console);
  expect(b.state).toEqual(a.state);
  expect(b.table).toEqual(a.table);
  expect(b.ptUpdates).toBe(a.ptUpdates);
  expect(b.violations).toEqual([]);
};

describe('batching fixes, run on the simulated Xen', () => {
  const path = join(FIXTURES, 'batch-run.xasm');
  const text = readFileSync(path, 'utf8');
  const original = boot(path, text, 'new_l1');
  const fixes = batchFixes(path, text);
  const lineOf = (s: string) => (text.includes(s) ? text.slice(0, text.indexOf(s)).split('\n').length : -1);

  it('the guest runs: 256 + 256 + 256 + 3000 + 2 single-entry calls', () => {
    expect(original.console).toBe('batched page-table updates ok\n');
    expect(original.state).toEqual({ kind: 'shutdown', reason: 0 });
    expect(original.mmuUpdates).toBe(256 * 3 + 3000 + 2);
    expect(original.table.filter((e) => !e.endsWith('-'))).toHaveLength(1024);
    expect(original.violations).toEqual([]);
    expect([...fixes.keys()]).toEqual([lineOf('    int 0x82'), lineOf('    SET_PTE\n; expect: warning unbatched-pt-loop "runs'), lineOf('call set_pte\n'),
      lineOf('    SET_PTE\n; expect: warning unbatched-pt-loop "one entry'), lineOf('HYPERCALL_PAGE_CALL mmu_update\n; expect')]);
  });

  // the loop's calls (or the sequence's) become one call; the loop of 3000 flushes when its 2048 are full
  const cases: [string, string, number][] = [
    ['int 0x82 written out', '    int 0x82', 256],
    ['a macro', '    SET_PTE\n; expect: warning unbatched-pt-loop "runs', 256],
    ['a called function', 'call set_pte\n', 256],
    ['a count known at run time', '    SET_PTE\n; expect: warning unbatched-pt-loop "one entry', 3000 - 1],
    ['straight-line code', 'HYPERCALL_PAGE_CALL mmu_update\n; expect', 2],
  ];
  for (const [what, at, calls] of cases) {
    it(`${what}: the same run with ${calls} mmu_update calls fewer`, () => {
      const fix = fixes.get(lineOf(at))!;
      expect(fix, what).toBeDefined();
      const run = boot(path, applyEdits(text, fix.edits), 'new_l1');
      same(original, run);
      expect(original.mmuUpdates - run.mmuUpdates).toBe(calls - 1);
    });
  }

  it('all of them: one mmu_update per loop (two for the loop of 3000) and one for the sequence', () => {
    const all = applyAll(path, text);
    expect(all.applied).toBe(5);
    const run = boot(path, all.text, 'new_l1');
    same(original, run);
    expect(run.mmuUpdates).toBe(1 + 1 + 1 + 2 + 1);
  });

  it('a batch that fails goes to the failure path the loop had, with the entries before the bad one made', () => {
    const poisoned = text.replace('poison_at:       dd -1', 'poison_at:       dd 100');
    expect(poisoned).not.toBe(text);
    const bad = boot(path, poisoned, 'new_l1');
    expect(bad.console).toBe('a page-table hypercall failed\n');
    expect(bad.state).toEqual({ kind: 'shutdown', reason: 3 });
    expect(bad.table.filter((e) => !e.endsWith('-'))).toHaveLength(100);
    expect(bad.mmuUpdates).toBe(101);
    const fix = batchFixes(path, poisoned).get(lineOf('    int 0x82'))!;
    expect(fix.edits.some((e) => e.newText.includes('jne fail'))).toBe(true);
    const run = boot(path, applyEdits(poisoned, fix.edits), 'new_l1');
    same(bad, run);
    expect(run.mmuUpdates).toBe(1);
    const all = boot(path, applyAll(path, poisoned).text, 'new_l1');
    same(bad, all);
  });

  it('the pagetables seed: its loop of 1024 single-entry calls becomes one call, the tables as before', () => {
    const seed = join(SEEDS, 'pagetables.xasm');
    const source = readFileSync(seed, 'utf8');
    const before = boot(seed, source, 'new_l1');
    const [fix, ...more] = batchFixes(seed, source).values();
    expect(more).toEqual([]);
    const after = boot(seed, applyEdits(source, fix.edits), 'new_l1');
    same(before, after);
    expect(after.console).toBe(readFileSync(seed.replace(/\.xasm$/, '.console'), 'utf8'));
    expect([before.mmuUpdates, after.mmuUpdates]).toEqual([1026, 3]);
  });
});

describe('the multicall fix, run on the simulated Xen', () => {
  const UPDATE_VA_MAPPING = hypercallByName('update_va_mapping')!.number;
  const MULTICALL = hypercallByName('multicall')!.number;
  const path = '/w/unmap.xasm';
  // three guard pages unmapped one call at a time (constant arguments: the fix's case), a
  // fourth page left mapped
  const text = [
    'bits 32', '%include "xen.inc"', 'org 0xC0000000',
    'XEN_ELFNOTE ENTRY, _start', 'XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page',
    'XEN_ELFNOTE VIRT_BASE, 0xC0000000', 'XEN_ELFNOTE PADDR_OFFSET, 0xC0000000',
    'section .text', '_start:',
    ...['guard_a', 'guard_b', 'guard_c'].flatMap((g) => [`    mov ebx, ${g}`, '    xor ecx, ecx', '    xor edx, edx', '    mov esi, UVMF_INVLPG', '    HYPERCALL update_va_mapping']),
    '    mov ebx, CONSOLEIO_write', '    mov ecx, msg_len', '    mov edx, msg', '    HYPERCALL console_io',
    '    mov ebx, SCHEDOP_shutdown', '    mov ecx, reason', '    HYPERCALL sched_op', '    jmp $',
    'section .data', 'msg: db "unmapped", 10', 'msg_len equ $ - msg', 'reason: dd SHUTDOWN_poweroff',
    'align 4096, db 0', 'hypercall_page: times 4096 db 0',
    'section .bss', 'alignb 4096', 'guard_a: resb 4096', 'guard_b: resb 4096', 'guard_c: resb 4096', 'kept: resb 4096', '',
  ].join('\n');

  function run(source: string) {
    const { xen, d, symbol: at } = build(path, source);
    expect(xen.run(d, 50_000_000)).toEqual({ kind: 'ended' });
    return {
      console: d.consoleText,
      state: d.state,
      mapped: ['guard_a', 'guard_b', 'guard_c', 'kept'].map((g) => d.read32(at(g)) !== null),
      calls: [d.counters.hypercalls[UPDATE_VA_MAPPING] ?? 0, d.counters.hypercalls[MULTICALL] ?? 0],
    };
  }

  it('three update_va_mapping calls become one multicall, with the same mappings after', () => {
    const before = run(text);
    expect(before).toEqual({ console: 'unmapped\n', state: { kind: 'shutdown', reason: 0 }, mapped: [false, false, false, true], calls: [3, 0] });
    const fix = analyze({ path, text, provider }).findings.flatMap((f) => f.fixes).find((f) => f.title.includes('one multicall'));
    expect(fix?.title).toBe('Make these 3 update_va_mapping calls one multicall');
    const fixed = applyEdits(text, fix!.edits);
    expect(fixed).toContain('dd __HYPERVISOR_update_va_mapping, 0, guard_b, 0, 0, UVMF_INVLPG, 0, 0');
    // the simulated Xen counts a multicall's entries as calls too: 3 calls, now in one entry into Xen
    expect(run(fixed)).toEqual({ ...before, calls: [3, 1] });
  });
});
