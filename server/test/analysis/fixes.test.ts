// Every quick fix offered on the fixtures and the seeds, applied: the result must assemble
// (no error it did not have before) and the finding it fixes must be gone.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../asm/src/index.js';
import { analyze, type Finding } from '../../src/analysis/index.js';
import { applyEdits, FIXTURES, fixtureNames, optionsOf, provider, SEEDS } from './util.js';

const files = [...fixtureNames().map((n) => join(FIXTURES, n)), join(SEEDS, 'pagetables.xasm'), join(SEEDS, 'traps.xasm')];

const errors = (path: string, text: string) => assemble({ path, text, provider }).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
const count = (fs: readonly Finding[], code: string) => fs.filter((f) => f.code === code).length;

describe('quick fixes', () => {
  let total = 0;
  for (const path of files) {
    it(`every fix on ${path.split('/').slice(-1)[0]} assembles and removes its finding`, () => {
      const text = readFileSync(path, 'utf8');
      const options = optionsOf(text);
      const before = analyze({ path, text, provider }, options).findings;
      const errorsBefore = errors(path, text);
      let applied = 0;
      for (const f of before) {
        for (const fix of f.fixes) {
          for (const e of fix.edits) expect(e.file).toBe(path);
          const fixed = applyEdits(text, fix.edits);
          const errorsAfter = errors(path, fixed);
          expect(errorsAfter.filter((m) => !errorsBefore.includes(m)), `${fix.title} (line ${f.range.start.line + 1})\n${fixed}`).toEqual([]);
          const after = analyze({ path, text: fixed, provider }, options).findings;
          expect(count(after, f.code), `${fix.title} (line ${f.range.start.line + 1})`).toBeLessThan(count(before, f.code));
          applied++;
        }
      }
      total += applied;
    });
  }

  it('applied fixes of every kind', () => {
    expect(total).toBeGreaterThan(60);
  });

  it('offers the paravirtual replacements where they are well defined', () => {
    const path = join(FIXTURES, 'privileged.xasm');
    const text = readFileSync(path, 'utf8');
    const titles = analyze({ path, text, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((t) => !t.startsWith('Ignore'));
    expect(titles).toEqual([
      "Replace cli with masking events in vCPU 0's vcpu_info (shared)",
      "Replace sti with unmasking events in vCPU 0's vcpu_info (shared), then letting Xen deliver any pending one",
      'Replace hlt with sched_op(SCHEDOP_block)',
      'Replace clts with fpu_taskswitch(0)',
      'Replace invlpg with mmuext_op(MMUEXT_INVLPG_LOCAL)',
      'Remove wbinvd (a PV guest does not need it)',
      'Replace mov cr3 with mmuext_op(MMUEXT_NEW_BASEPTR)',
      'Read CR2 from vcpu_info.arch.cr2 (vCPU 0)',
      'Replace hlt with sched_op(SCHEDOP_block)',
    ]);
  });

  it('merges constant update_va_mapping calls into one multicall', () => {
    const path = join(FIXTURES, 'unbatched-sequence.xasm');
    const text = readFileSync(path, 'utf8');
    const seq = analyze({ path, text, provider }).findings.filter((f) => f.code === 'unbatched-pt-sequence');
    const merge = seq.flatMap((f) => f.fixes).filter((f) => f.title.includes('multicall'));
    expect(merge.map((f) => f.title)).toEqual(['Make these 3 update_va_mapping calls one multicall']);
    const fixed = applyEdits(text, merge[0].edits);
    expect(fixed).toContain('HYPERCALL multicall');
    expect(fixed).toMatch(/dd __HYPERVISOR_update_va_mapping, 0, 0xc0003000, 0x1001, 0x0, 0x2, 0, 0/);
    const r = assemble({ path, text: fixed, provider });
    expect(r.ok).toBe(true);
  });

  it('ignore fixes add to an existing ignore list', () => {
    const path = join(FIXTURES, 'suppress.xasm');
    const text = readFileSync(path, 'utf8');
    const f = analyze({ path, text, provider }).findings.find((x) => x.code === 'privileged-instruction' && text.split('\n')[x.range.start.line].includes('sensitive-instruction'))!;
    const ignore = f.fixes.find((x) => x.title.startsWith('Ignore'))!;
    const fixed = applyEdits(text, ignore.edits).split('\n')[f.range.start.line];
    expect(fixed).toContain('xenolab-ignore: sensitive-instruction, privileged-instruction');
  });
});
