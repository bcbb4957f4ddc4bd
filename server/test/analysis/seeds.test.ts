// The seeds are correct PV kernels: the analysis must find nothing in them but what they do
// on purpose. pagetables.xasm fills 1024 entries with one mmu_update each (the slow half of
// its lesson); traps.xasm runs cli to take a #GP. Its handlers' iret is right (their
// trap_info flags leave events alone), as are events.xasm's iret hypercall and every
// other seed.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, type Finding } from '../../src/analysis/index.js';
import { provider, SEEDS } from './util.js';

const lineOf = (text: string, needle: string, after = ''): number => {
  const lines = text.split('\n');
  const from = after ? lines.findIndex((l) => l.includes(after)) : 0;
  return lines.findIndex((l, i) => i >= from && l.includes(needle));
};

const brief = (f: Finding) => ({ line: f.range.start.line, code: f.code, severity: f.severity });

const SEED_FILES = [
  'hello.xasm', 'pagetables.xasm', 'traps.xasm', 'events.xasm', 'smp/smp.xasm', 'blkfront/blkfront.xasm',
  'netfront/netfront.xasm', 'pingpong/pingpong.xasm', 'many/worker.xasm',
];

describe('seeds', () => {
  for (const seed of SEED_FILES) {
    it(seed, () => {
      const path = join(SEEDS, seed);
      const text = readFileSync(path, 'utf8');
      const { findings } = analyze({ path, text, provider });
      let expected: ReturnType<typeof brief>[] = [];
      if (seed === 'pagetables.xasm') {
        expected = [{ line: lineOf(text, 'HYPERCALL_PAGE_CALL mmu_update', '.fill:'), code: 'unbatched-pt-loop', severity: 'warning' }];
        expect(findings[0].message).toContain('runs up to 1024 times');
        expect(findings[0].message).toContain('batching saves 1023');
      }
      if (seed === 'traps.xasm') {
        expected = [{ line: lineOf(text, '    cli'), code: 'privileged-instruction', severity: 'error' }];
        expect(findings[0].fixes.map((f) => f.title)).toEqual([
          "Replace cli with masking events in vCPU 0's vcpu_info (shared)", 'Ignore privileged-instruction on this line',
        ]);
      }
      expect(findings.map(brief)).toEqual(expected);
      for (const f of findings) expect(f.file).toBe(path);
    });
  }
});
