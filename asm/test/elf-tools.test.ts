// Acceptance: the ELF files xenolab writes for the seeds are read correctly by binutils —
// `readelf -n` shows the Xen notes, `readelf --debug-dump=decodedline` and `addr2line`
// map every instruction to its source line.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/assembler.js';
import { writeElf32 } from '../src/elf/elf32.js';
import { lineColumn } from '../src/source.js';
import { dirProvider } from './nasm.js';

const root = join(import.meta.dirname, '..', '..');
const seedsDir = join(root, 'seeds');
const seeds = readdirSync(seedsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.xasm')).sort();

function build(seed: string) {
  const path = join(seedsDir, seed);
  const result = assemble({ path, text: readFileSync(path, 'utf8'), provider: dirProvider(seedsDir) });
  expect(result.ok).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-elf-'));
  const elf = join(dir, basename(seed).replace(/\.xasm$/, '.elf'));
  writeFileSync(elf, writeElf32(result.image));
  return { path, result, elf };
}

/** address -> "file:line" from readelf's decoded line table (file as a base name). */
function decodedLines(elf: string): Map<number, string> {
  const text = execFileSync('readelf', ['--debug-dump=decodedline', elf], { encoding: 'utf8' });
  const map = new Map<number, string>();
  for (const m of text.matchAll(/^(\S+)\s+(\d+)\s+(0x[0-9a-f]+)/gm)) map.set(Number(m[3]), `${basename(m[1])}:${m[2]}`);
  return map;
}

describe.each(seeds)('ELF of seed %s', (seed) => {
  const { path, result, elf } = build(seed);

  it('readelf -n lists every Xen note with its type and value', () => {
    const text = execFileSync('readelf', ['-n', elf], { encoding: 'utf8' });
    // binutils 2.40 has no names for Xen's note types: it prints generic names for 1, 2, 4.
    const generic: Record<string, number> = { 'NT_VERSION (version)': 1, 'NT_ARCH (architecture)': 2, 'GO BUILDID': 4 };
    const listed = [...text.matchAll(/^\s+(\S+)\s+0x([0-9a-f]+)\s+(.*?)\s*\n\s+description data: ([0-9a-f ]*)$/gm)].map((m) => ({
      owner: m[1],
      size: parseInt(m[2], 16),
      type: /\(0x([0-9a-f]+)\)/.exec(m[3]) ? parseInt(/\(0x([0-9a-f]+)\)/.exec(m[3])![1], 16) : generic[m[3]],
      desc: m[4].trim(),
    }));
    const expected = result.image.notes.map((n) => ({
      owner: n.name, size: n.desc.length, type: n.type,
      desc: Array.from(n.desc, (b) => b.toString(16).padStart(2, '0')).join(' '),
    }));
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(listed).toEqual(expected);
    // and the values are the ones the source asked for
    const source = readFileSync(path, 'utf8');
    const guestOs = /XEN_ELFNOTE\s+GUEST_OS,\s*"([^"]*)"/.exec(source)![1];
    const note6 = result.image.notes.find((n) => n.type === 6)!;
    expect(Buffer.from(note6.desc).toString('latin1')).toBe(guestOs + '\0');
    expect(execFileSync('readelf', ['-l', elf], { encoding: 'utf8' })).toMatch(/NOTE\s/);
  });

  it('the decoded line table maps each instruction of the seed to its line', () => {
    const table = decodedLines(elf);
    const file = result.files[0];
    let checked = 0;
    for (const row of result.listing) {
      if (row.bytes.length === 0 || row.line.stack.length > 0) continue;
      const st = row.line.node.statement;
      if (!st || st.kind !== 'instruction') continue;
      const { line } = lineColumn(file, row.line.node.start);
      expect(table.get(row.address), `address 0x${row.address.toString(16)}`).toBe(`${basename(seed)}:${line}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('addr2line agrees for the entry point', () => {
    const out = execFileSync('addr2line', ['-e', elf, `0x${result.image.entry.toString(16)}`], { encoding: 'utf8' }).trim();
    const first = result.image.lines.find((r) => r.address === result.image.entry);
    expect(first).toBeDefined();
    expect(out.endsWith(`${basename(seed)}:${first!.line}`)).toBe(true);
  });
});
