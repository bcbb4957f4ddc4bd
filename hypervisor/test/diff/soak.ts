// The differential test at scale, for scripts/cpu-soak.mjs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCase, Rng } from './generator.js';
import { runBatch } from './harness.js';

const BATCH = 500;

export function soak(total: number, seed: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-cpu-soak-'));
  let failures = 0;
  const started = Date.now();
  for (let done = 0, b = 0; done < total; b++) {
    const n = Math.min(BATCH, total - done);
    const rng = new Rng(seed * 1_000_003 + b);
    const cases = Array.from({ length: n }, (_, k) => generateCase(rng, k, 10));
    for (const d of runBatch(cases, dir)) {
      failures++;
      console.log(`difference: batch seed ${seed * 1_000_003 + b}, case ${d.index}: ${d.what}`);
    }
    done += n;
    if (b % 20 === 19 || done === total) console.log(`${done} cases, ${failures} differences (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  return failures;
}
