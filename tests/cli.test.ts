// The `xenolab` command end to end, as a user runs it.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { xenIncludeSource } from '../asm/src/xenInclude.js';
import { nasmBin } from '../asm/test/nasm.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'xenolab.mjs');
const hello = join(root, 'seeds', 'hello.xasm');
const work = mkdtempSync(join(tmpdir(), 'xenolab-cli-'));
const dir = () => join(root, 'seeds', 'pingpong');

function xenolab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: work });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  // Build the bundle once so parallel runs don't race to rebuild it.
  const { bundle } = await import(join(root, 'scripts', 'bundle.mjs'));
  await bundle();
});

describe('xenolab asm', () => {
  it('-f bin output is byte-identical to nasm', () => {
    const out = join(work, 'hello.bin');
    const r = xenolab('asm', hello, '-f', 'bin', '-o', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(nasmBin(readFileSync(hello, 'utf8')))).toBe(true);
  });

  it('writes an ELF32 i386 executable by default', () => {
    const out = join(work, 'hello.elf');
    expect(xenolab('asm', hello, '-o', out).code).toBe(0);
    const elf = readFileSync(out);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(1); // ELFCLASS32
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(elf.readUInt16LE(18)).toBe(3); // EM_386
  });

  it('reports errors as file:line:col with a non-zero exit', () => {
    const src = join(work, 'bad.xasm');
    writeFileSync(src, 'bits 32\nstart:\n    mov eax, [ebx + nowhere]\n    bogus eax\n');
    const r = xenolab('asm', src);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      `${src}:3:21: error: symbol 'nowhere' is not defined`,
      `${src}:4:5: error: unknown instruction 'bogus'`,
    ]);
  });

  it('prints a listing with addresses and bytes', () => {
    const src = join(work, 'small.xasm');
    writeFileSync(src, 'bits 32\norg 0x1000\nstart: mov eax, 1\n  jmp start\n');
    const r = xenolab('asm', src, '-f', 'bin', '--listing', '-o', join(work, 'small.bin'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('00001000 B801000000');
    expect(r.out).toContain('00001005 EBF9');
  });

  it('finds includes on -I paths and takes -D definitions', () => {
    const inc = join(work, 'inc');
    mkdirSync(inc, { recursive: true });
    writeFileSync(join(inc, 'consts.inc'), 'ANSWER equ 42\n');
    const src = join(work, 'uses.xasm');
    writeFileSync(src, 'bits 32\n%include "consts.inc"\nmov eax, ANSWER\nmov ebx, EXTRA\n');
    const out = join(work, 'uses.bin');
    expect(xenolab('asm', src, '-f', 'bin', '-o', out).code).toBe(1); // EXTRA undefined, consts.inc not found
    const r = xenolab('asm', src, '-f', 'bin', '-I', inc, '-D', 'EXTRA=7', '-o', out);
    expect(r.err).toBe('');
    expect(Array.from(readFileSync(out))).toEqual([0xb8, 42, 0, 0, 0, 0xbb, 7, 0, 0, 0]);
  });

  it('refuses bad usage with exit status 2', () => {
    expect(xenolab('asm').code).toBe(2);
    expect(xenolab('asm', hello, '-f', 'coff').err).toContain("unknown output format 'coff'");
    expect(xenolab('frobnicate').code).toBe(2);
    expect(xenolab('asm', join(work, 'missing.xasm')).err).toContain('cannot read');
  });
});

describe('xenolab disasm and demo', () => {
  it('disassembles an ELF with symbols and source lines', () => {
    const out = join(work, 'd.elf');
    expect(xenolab('asm', hello, '-o', out).code).toBe(0);
    const r = xenolab('disasm', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/<_start>:/);
    expect(r.out).toMatch(/; hello\.xasm:\d+ {2}cld/);
    expect(r.out).toMatch(/fc\s+cld/);
    expect(r.out).toMatch(/cd 82\s+int 0x82 {2}; hypercall console_io/);
    expect(r.out).toMatch(/call hypercall_page\+0x60 {2}; hypercall stack_switch/);
  });

  it('disassembles a flat binary at --org', () => {
    const f = join(work, 'flat.bin');
    writeFileSync(f, Buffer.from([0xb8, 1, 0, 0, 0, 0xeb, 0xf9]));
    const r = xenolab('disasm', f, '--org', '0x1000');
    expect(r.out).toContain('mov eax, 0x1');
    expect(r.out).toMatch(/eb f9\s+jmp (short )?0x1000/);
  });

  it('rejects a corrupt ELF with a clear error', () => {
    const f = join(work, 'corrupt.elf');
    writeFileSync(f, Buffer.from('\x7fELF\x01\x01\x01\x00garbage', 'latin1'));
    const r = xenolab('disasm', f);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a valid ELF32 file/);
  });

  it('demo assembles and disassembles the default seed', () => {
    const r = xenolab('demo');
    expect(r.code).toBe(0);
    expect(r.out).toContain('GUEST_OS         "xenolab-hello"');
    expect(r.out).toMatch(/HYPERCALL_PAGE\s+0xc0001000 \(hypercall_page\)/);
    expect(r.out).toMatch(/<_start>:/);
  });

  it('with no command, boots the default seed and shows its console (the quick start)', () => {
    const r = xenolab();
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(root, 'seeds', 'hello.console'), 'utf8'));
    expect(r.err).toMatch(/hello shut down \(poweroff\)/);
  });

  it('run boots a source or an ELF, traces hypercalls, and exits with the shutdown reason', () => {
    const elf = join(work, 'hello.elf');
    expect(xenolab('asm', hello, '-o', elf).code).toBe(0);
    const r = xenolab('run', elf, '--trace', 'hypercalls');
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(root, 'seeds', 'hello.console'), 'utf8'));
    expect(r.err).toMatch(/\[dom1\] console_io\(0x0, 0x1f, 0xc[0-9a-f]+\) = 0\n/); // CONSOLEIO_write, 31 bytes
    expect(r.err).toMatch(/\[dom1\] sched_op\(0x2, 0xc[0-9a-f]+\) = 0\n/); // SCHEDOP_shutdown
  });

  it('run --debug-xen: hypercalls overwrite the argument registers they took, as a debug build of Xen does', () => {
    const twice = join(work, 'twice.xasm');
    writeFileSync(twice, [
      'bits 32', '%include "xen.inc"', 'org 0xc0000000', 'XEN_ELFNOTE VIRT_BASE, 0xc0000000', 'section .text', 'global _start', '_start:',
      '    mov ebx, CONSOLEIO_write', '    mov ecx, 3', '    mov edx, msg',
      '    HYPERCALL console_io', '    HYPERCALL console_io ; relies on ebx, ecx, edx kept',
      '    mov ebx, SCHEDOP_shutdown', '    mov ecx, reason', '    HYPERCALL sched_op', 'msg: db "hi", 10', 'reason: dd SHUTDOWN_poweroff', '',
    ].join('\n'));
    expect(xenolab('run', twice).out).toBe('hi\nhi\n');
    const debug = xenolab('run', twice, '--debug-xen', '--trace', 'hypercalls');
    expect(debug.out).toBe('hi\n');
    expect(debug.err).toMatch(/\[dom1\] console_io\(0xdeadf00d, 0xdeadf00d, 0xdeadf00d\) = -/);
    expect(debug.code).toBe(0);
  });

  it('run reports a crash with its reason and registers (exit 3), and a cycle limit (exit 124)', () => {
    const crash = join(work, 'crash.xasm');
    writeFileSync(crash, 'bits 32\n%include "xen.inc"\norg 0xc0000000\nXEN_ELFNOTE VIRT_BASE, 0xc0000000\nsection .text\nglobal _start\n_start: mov eax, 0x1234\n  cli\n');
    const r = xenolab('run', crash);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/crashed: general protection fault \(error code 0x0\) at 0xc0000005 with no handler registered/);
    expect(r.err).toMatch(/eax=00001234/);
    const spin = join(work, 'spin.xasm');
    writeFileSync(spin, 'bits 32\n%include "xen.inc"\norg 0xc0000000\nXEN_ELFNOTE VIRT_BASE, 0xc0000000\nsection .text\nglobal _start\n_start: jmp _start\n');
    const s = xenolab('run', spin, '--max-cycles', '5000');
    expect(s.code).toBe(124);
    expect(xenolab('run', spin, '--max-cycles').code).toBe(2);
  });

  it('run boots the domains of xl.cfg files together, their consoles interleaved with (dN) prefixes: the pingpong seed', () => {
    const dir = join(root, 'seeds', 'pingpong');
    const r = xenolab('run', join(dir, 'ping.cfg'), join(dir, 'pong.cfg'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(dir, 'pingpong.console'), 'utf8'));
    expect(r.err).toMatch(/ping shut down \(poweroff\)/);
    expect(r.err).toMatch(/pong shut down \(poweroff\)/);
  });

  it("run serves a domain's disk from its image file: the blkfront seed reads sector 0 and writes sectors 8-15 to the file", () => {
    const seed = join(root, 'seeds', 'blkfront');
    const copy = join(work, 'blkfront');
    mkdirSync(copy, { recursive: true });
    for (const f of ['blkfront.xasm', 'blkfront.cfg']) writeFileSync(join(copy, f), readFileSync(join(seed, f)));
    // A fresh image: the text on sector 0, zeros after it.
    const image = new Uint8Array(256 * 512);
    image.set(readFileSync(join(seed, 'disk.img')).subarray(0, 512));
    writeFileSync(join(copy, 'disk.img'), image);
    const r = xenolab('run', join(copy, 'blkfront.cfg'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(seed, 'blkfront.console'), 'utf8'));
    const disk = readFileSync(join(copy, 'disk.img'));
    const words = new Uint32Array(disk.buffer, disk.byteOffset + 8 * 512, 1024);
    expect(Array.from(words.subarray(0, 3))).toEqual([0, 0x9e3779b9, (2 * 0x9e3779b9) >>> 0]);
    expect(disk.subarray(0, 512).equals(Buffer.from(image.subarray(0, 512)))).toBe(true);
    // The next boot finds what the last one wrote (and writes the same again).
    expect(xenolab('run', join(copy, 'blkfront.cfg')).out).toBe(r.out);
    expect(readFileSync(join(copy, 'disk.img')).equals(disk)).toBe(true);
  });

  it('the netfront seed: two domains ping each other through dom0\'s bridge', () => {
    const dir = join(root, 'seeds', 'netfront');
    const r = xenolab('run', join(dir, 'ping.cfg'), join(dir, 'pong.cfg'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(dir, 'netfront.console'), 'utf8'));
  });

  it('the many-domains seed: four CPU-bound workers of weights 1-4 finish heaviest first, as BVT shares the CPU', () => {
    const dir = join(root, 'seeds', 'many');
    const r = xenolab('run', ...[1, 2, 3, 4].map((w) => join(dir, `w${w}.cfg`)));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(dir, 'many.console'), 'utf8'));
    const done = [...r.out.matchAll(/weight (\d)\): done at (\d+) ms/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(done.map(([w]) => w)).toEqual([4, 3, 2, 1]);
    expect(done[3][1]).toBe(36); // 4 x 9 M cycles of work, nothing lost
  });

  it('the smp seed: a four-vCPU domain brings up its secondaries, each sums its share, the total is right', () => {
    const dir = join(root, 'seeds', 'smp');
    const r = xenolab('run', join(dir, 'smp.cfg'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(dir, 'smp.console'), 'utf8'));
    const shares = [...r.out.matchAll(/^vcpu(\d): \d+\.\.\d+ sum to (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(shares.map(([v]) => v).sort()).toEqual([0, 1, 2, 3]);
    expect(shares.reduce((a, [, n]) => a + n, 0)).toBe((60000 * 60001) / 2);
    // The hypercall trace names the vCPU when a domain has several.
    const traced = xenolab('run', join(dir, 'smp.cfg'), '--trace', 'hypercalls');
    expect(traced.err).toContain('[dom1 vcpu0] vcpu_op(0x3, 0x4, 0x0) = -ENOENT\n'); // is_up past the last vCPU
    expect(traced.err).toMatch(/^\[dom1 vcpu3\] vcpu_op\(0x2, 0x3, 0x0\) = 0$/m); // vCPU 3 takes itself down
    // A kernel given directly takes its vCPUs from --vcpus (1 to 32).
    const three = xenolab('run', join(dir, 'smp.xasm'), '--vcpus', '3', '--memory', '4096');
    expect(three.code).toBe(0);
    expect(three.out).toContain('vcpu0: the domain has 3 vCPUs\n');
    expect(three.out).toContain('the total is 1800030000\n');
    const many = xenolab('run', join(dir, 'smp.xasm'), '--vcpus', '40');
    expect(many.code).toBe(1);
    expect(many.err).toContain('cannot build smp: 40 vCPUs: a domain has 1 to 32');
    // xl list counts the vCPUs that are up.
    const listed = xenolab('list', join(dir, 'smp.cfg'));
    expect(listed.out.split('\n').find((l) => l.startsWith('smp'))?.split(/\s+/)[3]).toBe('1'); // all but vCPU 0 are down again
  });

  it('list runs the domains for a while and prints them as xl list does', () => {
    const spin = join(work, 'listspin.xasm');
    writeFileSync(spin, 'bits 32\n%include "xen.inc"\norg 0xc0000000\nXEN_ELFNOTE VIRT_BASE, 0xc0000000\nsection .text\nglobal _start\n_start: jmp _start\n');
    const dir = join(root, 'seeds', 'pingpong');
    const r = xenolab('list', join(dir, 'ping.cfg'), join(dir, 'pong.cfg'), spin, '--max-cycles', '20000000');
    const table = r.out.split('\n').filter((l) => /^(Name|listspin|ping|pong) /.test(l));
    expect(table.map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['Name', 'ID', 'Mem', 'VCPUs', 'State'],
      ['ping', '1', '8', '1', '---s--'],
      ['pong', '2', '8', '1', '---s--'],
      ['listspin', '3', '16', '1', 'r-----'],
    ]);
    // The spinner had the CPU for nearly all of the 20 ms.
    expect(Number(table[3].split(/\s+/)[5])).toBeGreaterThan(0.0195);
  });

  it('run reports configuration errors with file:line:col, and a missing kernel', () => {
    const bad = join(work, 'bad.cfg');
    writeFileSync(bad, 'name = "a"\nkernel = "k.xasm"\nmemory = "lots"\nvcpus = 64\n');
    const r = xenolab('run', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}:3:10: error: memory must be a whole number`);
    expect(r.err).toContain(`${bad}:4:9: error: vcpus = 64 is out of range (1-32)`);
    const missing = join(work, 'missing.cfg');
    writeFileSync(missing, 'name = "a"\nkernel = "nowhere.xasm"\n');
    expect(xenolab('run', missing).err).toMatch(/kernel 'nowhere.xasm' not found/);
    const alone = join(work, 'alone.cfg');
    writeFileSync(alone, `name = "alone"\nkernel = "${join(dir(), 'pingpong.xasm')}"\nextra = "pong"\n`);
    // pong with nobody to bind to yields for ever: the cycle limit ends it
    expect(xenolab('run', alone, '--max-cycles', '2000000').code).toBe(124);
  });

  it('lint prints the diagnostics as file:line:col: severity code: message, exit 1 on errors', () => {
    const traps = join(root, 'seeds', 'traps.xasm');
    const r = xenolab('lint', traps);
    const line = readFileSync(traps, 'utf8').split('\n').findIndex((l) => l === '    cli') + 1;
    expect(r.out).toContain(`${traps}:${line}:5: error privileged-instruction: `);
    expect(r.code).toBe(1);
    // A rule turned off: that line is gone (and with it the error).
    const off = xenolab('lint', traps, '--rule', 'privileged-instruction=off');
    expect(off.out).not.toContain('privileged-instruction');
    expect(off.code).toBe(0);
    expect(xenolab('lint', join(work, 'no-such.xasm')).code).toBe(2);
    expect(xenolab('lint', traps, '--rule', 'nonsense').code).toBe(2);
  });

  it('lint checks an include file as part of a file on the command line that includes it', () => {
    const lib = join(work, 'console.inc'), main = join(work, 'uses-console.xasm');
    writeFileSync(lib, 'console_write:\n    mov eax, __HYPERVISOR_console_io\n    int 0x82\n    ret\n');
    writeFileSync(main, `bits 32\n%include "xen.inc"\n_start:\n    mov ebx, CONSOLEIO_write\n    mov ecx, 1\n    mov edx, msg\n    call console_write\n    jmp $\n%include "console.inc"\nmsg: db "!"\n`);
    const both = xenolab('lint', main, lib);
    expect([both.out, both.code]).toEqual(['', 0]);
    // alone, it does not know xen.inc's names (nor, then, which hypercall it makes)
    const alone = xenolab('lint', lib);
    expect([alone.out, alone.code]).toEqual([`${lib}:2:14: error asm: symbol '__HYPERVISOR_console_io' is not defined\n`, 1]);
  });

  it('xen-inc prints the generated include', () => {
    expect(xenolab('xen-inc').out).toBe(xenIncludeSource());
  });
});
