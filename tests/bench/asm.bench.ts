// Benchmark: parse and assemble a 10k-line guest kernel, against nasm on the same file
// in the same run (nasm's time includes starting the process). Printed as medians of
// rounds interleaved with nasm's, with min/max; targets: parse <= 10 ms, assemble <= 50 ms.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { lex } from '../../asm/src/lexer.js';
import { parseStreamLine } from '../../asm/src/parser.js';
import { xenIncludeSource } from '../../asm/src/xenInclude.js';
import { guestSource } from './workload.js';

const LINES = 10_000;
const ROUNDS = 15;
/** Rounds run first and not counted: the steady state of a long-running language server. */
const WARMUP = 5;
const PARSE_TARGET_MS = 10;
const ASSEMBLE_TARGET_MS = 50;

interface Stats { median: number; min: number; max: number }

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

const fmt = (s: Stats) => `${s.median.toFixed(1).padStart(7)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;

export function run(): void {
  const base = guestSource(LINES);
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-bench-'));
  writeFileSync(join(dir, 'xen.inc'), xenIncludeSource());
  const provider = withBuiltins({ read: () => null });
  const nasm = (args: string[], file: string) => {
    const r = spawnSync('nasm', [...args, `-I${dir}/`, file], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`nasm failed on the benchmark source (${r.status})`);
  };
  /**
   * Rounds of one operation, each next to its nasm reference, after warm-up rounds.
   * Parse and assembly run in separate series, so neither pays for collecting the
   * other's garbage.
   */
  const series = (ours: (text: string) => void, nasmArgs: (dir: string) => string[]) => {
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let round = -WARMUP; round < ROUNDS; round++) {
      // A different first and last line every round: nothing is kept from the previous
      // round (an edited file is lexed and parsed again only between its first and last
      // changed lines), so every round reads the whole file.
      const text = `; round ${round}\n${base}; round ${round}\n`;
      const file = join(dir, 'guest.asm');
      writeFileSync(file, text);
      const t = time(() => ours(text));
      const n = time(() => nasm(nasmArgs(dir), file));
      if (round < 0) continue; // warm-up
      mine.push(t);
      theirs.push(n);
    }
    return [mine, theirs];
  };
  const [parse, nasmPre] = series((text) => {
    const tokens = lex(text);
    for (let l = 0; l < tokens.lines; l++) parseStreamLine(tokens, l);
  }, () => ['-E', '-o', '/dev/null']);
  const [assembled, nasmAsm] = series((text) => {
    if (!assemble({ path: 'guest.asm', text, provider }).ok) throw new Error('the benchmark source did not assemble');
  }, (d) => ['-f', 'bin', '-o', join(d, 'out.bin')]);
  const results = { parse, assemble: assembled, nasmPre, nasmAsm };
  const p = stats(results.parse);
  const a = stats(results.assemble);
  const np = stats(results.nasmPre);
  const na = stats(results.nasmAsm);
  console.log(`assembler, ${LINES}-line guest kernel (+ xen.inc), ${ROUNDS} rounds after ${WARMUP} warm-up rounds, node ${process.version}`);
  console.log(`  parse      xenolab ${fmt(p)}   nasm -E     ${fmt(np)}   ratio ${(p.median / np.median).toFixed(2)}x   target <= ${PARSE_TARGET_MS} ms: ${p.median <= PARSE_TARGET_MS ? 'met' : 'NOT met'}`);
  console.log(`  assemble   xenolab ${fmt(a)}   nasm -f bin ${fmt(na)}   ratio ${(a.median / na.median).toFixed(2)}x   target <= ${ASSEMBLE_TARGET_MS} ms: ${a.median <= ASSEMBLE_TARGET_MS ? 'met' : 'NOT met'}`);
}
