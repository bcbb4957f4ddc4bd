// Runs generated cases natively (a 32-bit Linux process: nasm -f elf32 + ld -m elf_i386,
// or qemu-i386 where this machine cannot run 32-bit code) and on xenolab's CPU, from the
// same linked executable, and compares what each case recorded.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElf32, isElfError, PT_LOAD } from '../../../asm/src/elf/elf32.js';
import { Cpu, ESP } from '../../src/cpu.js';
import { PhysicalMemory } from '../../src/memory.js';
import { BUF_SIZE, type Case } from './generator.js';

/** Per case: eight registers, EFLAGS, then the buffer. */
export const RECORD = 36 + BUF_SIZE;
const LINK_ADDRESS = 0x100000;
const STACK_SIZE = 4096;

/** The whole batch as one program: each case loads its state, runs, and stores a record. */
export function programSource(cases: readonly Case[]): string {
  const out: string[] = ['bits 32', 'global _start', 'section .text', '_start:'];
  cases.forEach((c, k) => {
    const rec = `out + ${k * RECORD}`;
    out.push(
      `; case ${k}`,
      'cld', `mov esi, init_${k}`, 'mov edi, buf', `mov ecx, ${BUF_SIZE}`, 'rep movsb',
      'mov esp, stack_top',
      `push dword ${c.flags}`, 'popfd',
      ...['eax', 'ecx', 'edx', 'ebx', '', 'ebp', 'esi', 'edi'].map((r, i) => (r ? `mov ${r}, ${c.regs[i] >>> 0}` : '')).filter(Boolean),
      ...c.lines,
      ...['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'].map((r, i) => `mov [${rec} + ${i * 4}], ${r}`),
      'pushfd', `pop dword [${rec} + 32]`,
      'cld', 'mov esi, buf', `mov edi, ${rec} + 36`, `mov ecx, ${BUF_SIZE}`, 'rep movsb',
    );
  });
  out.push(
    'mov eax, 4', 'mov ebx, 1', 'mov ecx, out', `mov edx, ${cases.length * RECORD}`, 'int 0x80',
    'mov eax, 1', 'xor ebx, ebx', 'int 0x80',
    'section .data',
    ...cases.map((c, k) => `init_${k}: db ${Array.from(c.buf).join(',')}`),
    'section .bss',
    'alignb 16', 'stack: resb ' + STACK_SIZE, 'stack_top:',
    `buf: resb ${BUF_SIZE}`,
    `out: resb ${cases.length * RECORD}`,
  );
  return out.join('\n') + '\n';
}

let runner: string[] | null | undefined;

/** How to run a 32-bit executable here: directly, or under qemu-i386; null when neither works. */
export function nativeRunner(dir: string): string[] | null {
  if (runner !== undefined) return runner;
  const probe = buildExecutable(dir, 'probe', 'bits 32\nglobal _start\nsection .text\n_start: mov eax, 1\nmov ebx, 42\nint 0x80\n');
  runner = null;
  for (const r of [[], ['qemu-i386']]) {
    const res = r.length ? spawnSync(r[0], [probe]) : spawnSync(probe);
    if (res.status === 42) {
      runner = r;
      break;
    }
  }
  return runner;
}

export function buildExecutable(dir: string, name: string, source: string): string {
  const asm = join(dir, `${name}.asm`), obj = join(dir, `${name}.o`), exe = join(dir, name);
  writeFileSync(asm, source);
  execFileSync('nasm', ['-f', 'elf32', '-o', obj, asm], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('ld', ['-m', 'elf_i386', `-Ttext=0x${LINK_ADDRESS.toString(16)}`, '-o', exe, obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  return exe;
}

export function runNative(exe: string, how: string[]): Uint8Array {
  const res = how.length ? spawnSync(how[0], [...how.slice(1), exe], { maxBuffer: 1 << 28 }) : spawnSync(exe, { maxBuffer: 1 << 28 });
  if (res.status !== 0) throw new Error(`native run failed: status ${res.status} signal ${res.signal}`);
  return new Uint8Array(res.stdout);
}

export interface RunOptions {
  paging: boolean;
  /** Compiled blocks from the first run of an instruction (true), or the interpreter only. */
  jit: boolean;
}

/** Runs the executable on our CPU at CPL 3 (with paging: the ELF's pages mapped as a user's). */
export function runOurs(exe: string, opts: RunOptions = { paging: true, jit: true }): Uint8Array {
  const elf = readElf32(new Uint8Array(readFileSync(exe)));
  if (isElfError(elf)) throw new Error(elf.message);
  const file = readFileSync(exe);
  const mem = new PhysicalMemory(2048); // 8 MiB
  let top = 0;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    mem.load(ph.vaddr, new Uint8Array(file.subarray(ph.offset, ph.offset + ph.filesz)));
    top = Math.max(top, ph.vaddr + ph.memsz);
  }
  const cpu = new Cpu(mem);
  cpu.jit = opts.jit;
  cpu.jitThreshold = 1;
  if (opts.paging) identityMap(mem, cpu, top);
  cpu.setSegments(0x23, 0x2b);
  cpu.gateDpl[0x80] = 3;
  cpu.setFlags(0x202);
  cpu.eip = elf.entry;
  cpu.regs[ESP] = 0x7ff000;
  const out: number[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const stop = cpu.run(50_000_000);
    if (stop.kind !== "exception" || stop.vector !== 0x80) throw new Error(`stopped: ${JSON.stringify(stop)} at ${cpu.eip.toString(16)} (cr2 ${cpu.cr2.toString(16)}, esp ${(cpu.regs[ESP] >>> 0).toString(16)})`);
    const [eax, , , ebx] = cpu.regs;
    if (eax === 1) return new Uint8Array(out);
    if (eax === 4 && ebx === 1) {
      const p = cpu.regs[1] >>> 0, n = cpu.regs[2] >>> 0;
      for (let k = 0; k < n; k++) out.push(cpu.read8(p + k));
      cpu.regs[0] = n;
    } else throw new Error(`unexpected system call ${eax}`);
  }
  throw new Error('too many system calls');
}

/** Page tables above the program that map [0, top) and the stack to the same addresses, user and writable. */
function identityMap(mem: PhysicalMemory, cpu: Cpu, top: number): void {
  const pd = 0x700000;
  const limit = Math.max(top, 0x800000);
  for (let page = 0; page * 4096 < limit; page++) {
    const dirIndex = page >>> 10;
    const table = pd + 4096 * (1 + dirIndex);
    mem.write32(pd + dirIndex * 4, table | 7);
    mem.write32(table + (page & 1023) * 4, (page * 4096) | 7);
  }
  cpu.cr3 = pd;
  cpu.cr0 |= 0x80000000;
}

export interface Difference {
  index: number;
  what: string;
}

const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** The differences between the two records of each case. */
export function compare(cases: readonly Case[], native: Uint8Array, ours: Uint8Array): Difference[] {
  const out: Difference[] = [];
  if (native.length !== cases.length * RECORD) throw new Error(`native output has ${native.length} bytes, expected ${cases.length * RECORD}`);
  const nv = new DataView(native.buffer, native.byteOffset), ov = new DataView(ours.buffer, ours.byteOffset);
  cases.forEach((c, k) => {
    const base = k * RECORD;
    if (ours.length < base + RECORD) {
      out.push({ index: k, what: 'no record from xenolab' });
      return;
    }
    const what: string[] = [];
    for (let r = 0; r < 8; r++) {
      const a = nv.getUint32(base + r * 4, true), b = ov.getUint32(base + r * 4, true);
      if (a !== b) what.push(`${REG_NAMES[r]}: native ${hex(a)} xenolab ${hex(b)}`);
    }
    const mask = ~c.undefinedFlags >>> 0;
    const fa = nv.getUint32(base + 32, true), fb = ov.getUint32(base + 32, true);
    if (((fa ^ fb) & mask) !== 0) what.push(`eflags: native ${hex(fa)} xenolab ${hex(fb)} (compared ${hex(mask)})`);
    for (let i = 0; i < BUF_SIZE; i++) {
      if (native[base + 36 + i] !== ours[base + 36 + i]) {
        what.push(`buf[${i}]: native ${hex(native[base + 36 + i])} xenolab ${hex(ours[base + 36 + i])}`);
        break;
      }
    }
    if (what.length) out.push({ index: k, what: `${what.join('; ')}\n  ${c.lines.join('\n  ')}` });
  });
  return out;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

/**
 * One batch end to end, on the interpreter alone (paging off) and with compiled blocks
 * (paging on); returns the differences of both, labelled.
 */
export function runBatch(cases: readonly Case[], dir = mkdtempSync(join(tmpdir(), 'xenolab-cpu-')), name = 'batch'): Difference[] {
  const how = nativeRunner(dir);
  if (!how) throw new Error('this machine can run neither 32-bit executables nor qemu-i386');
  const exe = buildExecutable(dir, name, programSource(cases));
  const native = runNative(exe, how);
  const out: Difference[] = [];
  for (const opts of [{ paging: false, jit: false }, { paging: true, jit: true }]) {
    const label = opts.jit ? 'compiled blocks, paging' : 'interpreter, no paging';
    for (const d of compare(cases, native, runOurs(exe, opts))) out.push({ index: d.index, what: `[${label}] ${d.what}` });
  }
  return out;
}
