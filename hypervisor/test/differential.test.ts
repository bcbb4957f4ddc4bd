// Acceptance: the CPU against real hardware. Random instruction sequences run natively as
// a 32-bit Linux process and on xenolab's CPU (at CPL 3, through page tables); registers,
// defined flags and the touched buffer must be identical. XENOLAB_CPU_CASES sets the count
// (default 2,000); `npm run soak:cpu` runs 100,000.

import { describe, expect, it } from 'vitest';
import { generateCase, Rng } from './diff/generator.js';
import { runBatch } from './diff/harness.js';

const CASES = Number(process.env.XENOLAB_CPU_CASES ?? 2000);
const BATCH = 250;
const SEED = Number(process.env.XENOLAB_CPU_SEED ?? 20261122);

describe('CPU against native execution', () => {
  const batches = Math.ceil(CASES / BATCH);
  for (let b = 0; b < batches; b++) {
    it(`random sequences, batch ${b + 1} of ${batches}`, () => {
      const rng = new Rng(SEED + b);
      const cases = Array.from({ length: Math.min(BATCH, CASES - b * BATCH) }, (_, k) => generateCase(rng, k));
      const diffs = runBatch(cases);
      expect(diffs.map((d) => `case ${d.index} (seed ${SEED + b}): ${d.what}`).slice(0, 5)).toEqual([]);
    });
  }
});
