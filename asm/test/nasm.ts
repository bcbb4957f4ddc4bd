// Test helpers around the real `nasm`: assemble a source the way CI's reference does,
// and assemble with xenolab using the same include directory.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, flatBinary, type AssembleResult } from '../src/assembler.js';
import { nodeProvider } from '../../cli/src/nodeProvider.js';
import { xenIncludeSource } from '../src/xenInclude.js';
import type { SourceProvider } from '../src/source.js';

let includeDir: string | undefined;

/** A temporary directory holding the generated xen.inc, for nasm's -I. */
export function xenIncludeDir(): string {
  if (!includeDir) {
    includeDir = mkdtempSync(join(tmpdir(), 'xenolab-inc-'));
    writeFileSync(join(includeDir, 'xen.inc'), xenIncludeSource());
  }
  return includeDir;
}

/** Assembles `source` with `nasm -f bin`; throws with nasm's messages on failure. */
export function nasmBin(source: string, name = 'input.asm'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-nasm-'));
  const src = join(dir, name);
  const out = join(dir, 'out.bin');
  writeFileSync(src, source);
  execFileSync('nasm', ['-f', 'bin', `-I${xenIncludeDir()}/`, '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out);
}

/** Reads includes the way the CLI does, with `dir` on the include path. */
export function dirProvider(dir: string): SourceProvider {
  return nodeProvider([dir]);
}

export function xenolabBin(source: string, path = 'input.asm', dir = '.'): { result: AssembleResult; bytes: Uint8Array } {
  const result = assemble({ path, text: source, provider: dirProvider(dir) });
  return { result, bytes: flatBinary(result.image) };
}

/** Lines whose bytes differ from nasm's, with both encodings, for readable failures. */
export function mismatches(result: AssembleResult, ours: Uint8Array, ref: Uint8Array): string[] {
  const out: string[] = [];
  const progbits = result.image.sections.filter((s) => s.kind === 'progbits');
  const base = progbits.length ? Math.min(...progbits.map((s) => s.vaddr)) : 0;
  for (const row of result.listing) {
    const off = row.address - base;
    const want = Buffer.from(ref.subarray(off, off + row.bytes.length));
    const got = Buffer.from(row.bytes);
    if (!got.equals(want)) {
      const span = row.line.node;
      const text = result.files[span.file]?.text.slice(span.start, span.end).trim();
      out.push(`${text}: xenolab ${got.toString('hex')} nasm ${want.toString('hex')}`);
    }
  }
  if (out.length === 0 && !Buffer.from(ours).equals(ref)) out.push(`image differs: xenolab ${ours.length} bytes, nasm ${ref.length} bytes`);
  return out;
}
