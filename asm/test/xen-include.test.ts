// The generated xen.inc: plain-NASM shape, and real NASM (nasm -f bin) assembling a program
// that includes it and dumps every constant, struct size and field offset, uses every
// macro, and emits Xen ELF notes; the output bytes are compared with the tables.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HYPERCALLS,
  XEN_CONSTANT_GROUPS,
  XEN_ELFNOTES,
  XEN_ERRNOS,
  XEN_STRINGS,
  XEN_STRUCTS,
  xenConstant,
  xenElfNote,
  xenStruct,
  type StructField,
} from '../../isa/src/xen/index.js';
import { XEN_INCLUDE_NAME, xenIncludeSource } from '../src/xenInclude.js';

const SOURCE = xenIncludeSource();

describe('xen.inc text', () => {
  it('is named xen.inc, generated, guarded and deterministic', () => {
    expect(XEN_INCLUDE_NAME).toBe('xen.inc');
    expect(SOURCE.split('\n').slice(0, 3).join('\n')).toMatch(/GENERATED/);
    expect(SOURCE).toMatch(/^%ifndef XEN_INC$/m);
    expect(SOURCE).toMatch(/^%define XEN_INC$/m);
    expect(SOURCE.trimEnd()).toMatch(/%endif ; XEN_INC$/);
    expect(xenIncludeSource()).toBe(SOURCE);
  });

  it('uses only the plain NASM directives our assembler supports', () => {
    const directives = new Set<string>();
    for (const line of SOURCE.split('\n')) {
      const code = line.replace(/;.*$/, '').trim();
      const m = /^%[a-z]+/.exec(code);
      if (m) directives.add(m[0]);
      expect(code).not.toMatch(/\bistruc\b|%rep\b|%assign\b|%strlen\b|%substr\b/);
    }
    expect([...directives].sort()).toEqual(['%define', '%else', '%endif', '%endmacro', '%ifdef', '%ifndef', '%macro']);
  });

  it('states each constant once, under Xen\'s names', () => {
    const equs = SOURCE.split('\n').map((l) => /^(\S+) equ (-?(?:0x[0-9a-f]+|\d+))\b/.exec(l)).filter((m) => m !== null);
    const names = equs.map((m) => m[1]!);
    expect(new Set(names).size).toBe(names.length);
    const value = (n: string) => {
      const m = equs.find((x) => x[1] === n);
      return m ? Number(m[2]) : undefined;
    };
    expect(value('__HYPERVISOR_mmu_update')).toBe(1);
    expect(value('__HYPERVISOR_mmuext_op')).toBe(26);
    expect(value('MMUEXT_PIN_L2_TABLE')).toBe(1);
    expect(value('UVMF_INVLPG')).toBe(2);
    expect(value('XEN_EINVAL')).toBe(22);
    expect(value('HYPERVISOR_VIRT_START')).toBe(0xfc000000);
    expect(value('start_info.console.dom0.info_off')).toBe(52);
  });
});

// ---------------------------------------------------------------------------------------
// Real NASM.

interface Probe {
  readonly label: string;
  /** NASM expression placed in a `dd`. */
  readonly expr: string;
  /** Expected 32-bit value (negative numbers as two's complement). */
  readonly expected: number;
}

/** Every member reachable by name: struct fields plus the members of embedded structs. */
function memberPaths(fields: readonly StructField[], base = 0, prefix = ''): [string, number][] {
  const out: [string, number][] = [];
  for (const fl of fields) {
    const path = prefix + fl.name;
    out.push([path, base + fl.offset]);
    const inner = fl.struct !== undefined && fl.count === undefined ? xenStruct(fl.struct) : undefined;
    if (inner) out.push(...memberPaths(inner.fields, base + fl.offset, `${path}.`));
  }
  return out;
}

function probes(): Probe[] {
  const out: Probe[] = [];
  const add = (label: string, expr: string, expected: number) => out.push({ label, expr, expected: expected >>> 0 });
  for (const h of HYPERCALLS) add(`__HYPERVISOR_${h.name}`, `__HYPERVISOR_${h.name}`, h.number);
  for (const e of XEN_ERRNOS) add(`XEN_${e.name}`, `XEN_${e.name}`, e.value);
  for (const g of XEN_CONSTANT_GROUPS) for (const k of g.constants) add(k.name, k.name, k.value);
  for (const s of XEN_STRUCTS) {
    add(`${s.name}_size`, `${s.name}_size`, s.size);
    for (const [path, offset] of memberPaths(s.fields)) add(`${s.name}.${path}`, `${s.name}.${path}`, offset);
  }
  return out;
}

const PROBES = probes();
/** Byte offsets in the output: values, then the code below, then the magic string. */
const CODE_AT = PROBES.length * 4;
const CALL_AT = CODE_AT + 7; // after mov eax, imm32 / int 0x82
const JMP_AT = CALL_AT + 5;
const MOVS_AT = JMP_AT + 5;
const NOP_AT = MOVS_AT + 3 + 3 + 3 + 7;
const MAGIC_AT = NOP_AT + 1;
const MAGIC = 'xen-3.0-x86_32';
const NOTE_TEXT = 'xenolab test';

/** The test program; the dumped values come first so their offsets are known. */
function program(): string {
  return [
    'bits 32',
    `%include "${XEN_INCLUDE_NAME}"`,
    `%include "${XEN_INCLUDE_NAME}" ; the guard makes the second include a no-op`,
    'section .text',
    'values:',
    ...PROBES.map((p) => `    dd ${p.expr}`),
    'code:',
    '    HYPERCALL mmu_update',
    '    HYPERCALL_PAGE_CALL sched_op',
    '    HYPERCALL_PAGE_JMP iret',
    '    mov eax, [ebx + start_info.shared_info]',
    '    mov al, [esi + shared_info.vcpu_info + vcpu_info.evtchn_upcall_mask]',
    '    mov eax, [esi + vcpu_info.arch.cr2]',
    '    mov dword [edi + mmu_update.val], _PAGE_PRESENT | _PAGE_RW',
    `    XEN_ELFNOTE GUEST_OS, "${NOTE_TEXT}"`,
    '    XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page',
    '    XEN_ELFNOTE L1_MFN_VALID, 0x1, 0x3',
    '    XEN_ELFNOTE XEN_VERSION, "xen-3.0"',
    '    nop ; back in .text after the notes',
    'magic:',
    '    db XEN_START_INFO_MAGIC, 0',
    '    dd hypercall_page',
    '    align 4096, db 0',
    'hypercall_page:',
    '    times 4096 db 0xcc',
    '',
  ].join('\n');
}

function le32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0);
}

/** An ELF note entry as Xen's loader reads it (written independently of the macro). */
function note(type: number, desc: Uint8Array): number[] {
  const pad = (n: number) => (4 - (n % 4)) % 4;
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const name = [...new TextEncoder().encode('Xen'), 0];
  return [...u32(name.length), ...u32(desc.length), ...u32(type), ...name, ...Array<number>(pad(name.length)).fill(0),
    ...desc, ...Array<number>(pad(desc.length)).fill(0)];
}
const str = (s: string) => new Uint8Array([...new TextEncoder().encode(s), 0]);
const words = (...v: number[]) => new Uint8Array(v.flatMap((x) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff]));

const nasmVersion = spawnSync('nasm', ['-v'], { encoding: 'utf8' });
const noNasm = nasmVersion.status === 0 ? undefined : 'nasm not found: apt-get install nasm';
const itNasm = noNasm ? it.skip : it;
const skipNote = noNasm ? ` (SKIPPED: ${noNasm})` : '';

describe(`xen.inc under real NASM (${noNasm ?? nasmVersion.stdout.trim()})`, () => {
  let dir = '';
  let bin = new Uint8Array();
  let stderr = '';
  let status: number | null = null;

  beforeAll(() => {
    if (noNasm) return;
    dir = mkdtempSync(join(tmpdir(), 'xenolab-xeninc-'));
    writeFileSync(join(dir, XEN_INCLUDE_NAME), SOURCE);
    writeFileSync(join(dir, 'test.asm'), program());
    const r = spawnSync('nasm', ['-f', 'bin', '-w+all', '-I', `${dir}/`, '-o', join(dir, 'test.bin'), join(dir, 'test.asm')], { encoding: 'utf8' });
    status = r.status;
    stderr = r.stderr;
    if (r.status === 0) bin = new Uint8Array(readFileSync(join(dir, 'test.bin')));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itNasm(`assembles with nasm -f bin -w+all and no warnings${skipNote}`, () => {
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  itNasm(`carries every constant, struct size and field offset through${skipNote}`, () => {
    const wrong = PROBES.flatMap((p, i) => {
      const got = le32(bin, 4 * i);
      return got === p.expected ? [] : [`${p.label}: tables ${p.expected}, nasm ${got}`];
    });
    expect(wrong).toEqual([]);
    expect(PROBES.length).toBeGreaterThan(600);
  });

  itNasm(`has the well-known values${skipNote}`, () => {
    const at = (label: string) => {
      const i = PROBES.findIndex((p) => p.label === label);
      expect(i, label).toBeGreaterThanOrEqual(0);
      return le32(bin, 4 * i);
    };
    expect(at('__HYPERVISOR_mmu_update')).toBe(1);
    expect(at('__HYPERVISOR_mmuext_op')).toBe(26);
    expect(at('__HYPERVISOR_iret')).toBe(23);
    expect(at('MMUEXT_PIN_L2_TABLE')).toBe(1);
    expect(at('UVMF_INVLPG')).toBe(2);
    expect(at('XEN_EINVAL')).toBe(22);
    expect(at('GNTST_general_error')).toBe(0xffffffff);
    expect(at('HYPERVISOR_VIRT_START')).toBe(0xfc000000);
    expect(at('FLAT_KERNEL_CS')).toBe(0xe019);
    expect(at('trap_info_size')).toBe(8);
    expect(at('mmu_update_size')).toBe(16);
    expect(at('start_info_size')).toBe(1112);
    expect(at('start_info.magic')).toBe(0);
    expect(at('start_info.shared_info')).toBe(36);
    expect(at('start_info.console.domU.mfn')).toBe(52);
    expect(at('start_info.console.domU.evtchn')).toBe(56);
    expect(at('shared_info_size')).toBe(2344);
    expect(at('shared_info.evtchn_pending')).toBe(2048);
    expect(at('shared_info.evtchn_mask')).toBe(2176);
    expect(at('shared_info.arch.max_pfn')).toBe(2316);
    expect(at('vcpu_info_size')).toBe(64);
    expect(at('vcpu_info.evtchn_upcall_mask')).toBe(1);
    expect(at('vcpu_info.arch.cr2')).toBe(8);
    expect(at('vcpu_info.time.system_time')).toBe(48);
    expect(at('sring_size')).toBe(64);
    expect(at('BLKIF_RING_SIZE')).toBe(32);
  });

  itNasm(`expands the hypercall macros and struct operands${skipNote}`, () => {
    const code = [...bin.subarray(CODE_AT, CODE_AT + 7)];
    expect(code).toEqual([0xb8, 0x01, 0x00, 0x00, 0x00, 0xcd, 0x82]); // mov eax, 1 / int 0x82
    const page = le32(bin, MAGIC_AT + MAGIC.length + 1);
    expect(page % 4096).toBe(0);
    expect(bin[CALL_AT]).toBe(0xe8);
    expect(CALL_AT + 5 + (le32(bin, CALL_AT + 1) | 0)).toBe(page + 29 * 32); // call hypercall_page + sched_op*32
    expect(bin[JMP_AT]).toBe(0xe9);
    expect(JMP_AT + 5 + (le32(bin, JMP_AT + 1) | 0)).toBe(page + 23 * 32); // jmp hypercall_page + iret*32
    expect([...bin.subarray(MOVS_AT, MOVS_AT + 3)]).toEqual([0x8b, 0x43, 0x24]); // mov eax, [ebx+36]
    expect([...bin.subarray(MOVS_AT + 3, MOVS_AT + 6)]).toEqual([0x8a, 0x46, 0x01]); // mov al, [esi+1]
    expect([...bin.subarray(MOVS_AT + 6, MOVS_AT + 9)]).toEqual([0x8b, 0x46, 0x08]); // mov eax, [esi+8]
    expect([...bin.subarray(MOVS_AT + 9, NOP_AT)]).toEqual([0xc7, 0x47, 0x08, 0x03, 0, 0, 0]); // mov dword [edi+8], 3
    expect(bin[NOP_AT]).toBe(0x90); // the notes went to .note.Xen and .text resumed
    expect(new TextDecoder().decode(bin.subarray(MAGIC_AT, MAGIC_AT + MAGIC.length + 1))).toBe(`${MAGIC}\0`);
  });

  itNasm(`emits well-formed Xen ELF notes into .note.Xen${skipNote}`, () => {
    const guestOs = xenElfNote('GUEST_OS');
    const hcPage = xenElfNote('HYPERCALL_PAGE');
    const l1 = xenElfNote('L1_MFN_VALID');
    const ver = xenElfNote('XEN_VERSION');
    if (!guestOs || !hcPage || !l1 || !ver) throw new Error('missing note types');
    const page = le32(bin, MAGIC_AT + MAGIC.length + 1);
    const expected = [
      ...note(guestOs.value, str(NOTE_TEXT)),
      ...note(hcPage.value, words(page)),
      ...note(l1.value, words(1, 3)),
      ...note(ver.value, str('xen-3.0')),
    ];
    // nasm -f bin places .note.Xen after .text (which ends with the hypercall page)
    const notesAt = page + 4096;
    expect(bin.length).toBe(notesAt + expected.length);
    expect([...bin.subarray(notesAt)]).toEqual(expected);
    expect(guestOs.desc).toBe('string');
    expect(hcPage.desc).toBe('numeric');
  });

  itNasm(`also assembles as ELF32 without warnings${skipNote}`, () => {
    const r = spawnSync('nasm', ['-f', 'elf32', '-w+all', '-I', `${dir}/`, '-o', join(dir, 'test.o'), join(dir, 'test.asm')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('xen.inc coverage', () => {
  it('defines every string-note marker for exactly the string notes', () => {
    const markers = [...SOURCE.matchAll(/^%define XEN_ELFNOTE_STR_(\w+)$/gm)].map((m) => `XEN_ELFNOTE_${m[1]}`);
    expect(markers.sort()).toEqual(XEN_ELFNOTES.filter((n) => n.desc === 'string').map((n) => n.name).sort());
  });

  it('defines the strings', () => {
    for (const s of XEN_STRINGS) expect(SOURCE).toContain(`%define ${s.name} '${s.value}'`);
    expect(xenConstant('HYPERCALL_STUB_SIZE')?.value).toBe(32);
  });
});
