// The decoder and the disassembler against the real tools: the corpus (every encodable form
// of the table, several operand variants each) is assembled by nasm, then
//  (a) our decoder must split the bytes into the same instructions as objdump, with the same
//      mnemonics and operands after normalising objdump's Intel syntax (rules below), and
//  (b) our disassembly, assembled again by nasm, must give back the same bytes, except for
//      the listed encodings NASM never produces, where the re-decoded meaning must agree.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMS, formsOf, type InstructionForm } from '../../isa/src/index.js';
import { decode, type DecodedInstruction, type DecodedOperand, type MemoryOperand } from '../../isa/src/decoder.js';
import { disassemble, formatInstruction, formatLine } from '../src/disasm.js';
import { NASM_UNSUPPORTED, corpus, type CorpusLine } from './corpus.js';

const BASE = 0x400000;
let dir = '';

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'xenolab-disasm-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const HEADER_LINES = 2;

/** Assembles `bits 32` source with nasm; returns the flat binary, or throws listing each
 *  rejected source line. */
function nasm(lines: readonly string[], org: number): Uint8Array {
  const src = join(dir, 'in.asm');
  const out = join(dir, 'out.bin');
  writeFileSync(src, `bits 32\norg ${hexOf(org)}\n${lines.join('\n')}\n`);
  try {
    execFileSync('nasm', ['-f', 'bin', '-w-all', '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? e);
    const rejected = [...stderr.matchAll(/:(\d+): error: (.*)/g)].slice(0, 30).map((m) => `${lines[Number(m[1]) - HEADER_LINES - 1]}  <- ${m[2]}`);
    throw new Error(`nasm rejected:\n${rejected.join('\n')}`);
  }
  return new Uint8Array(readFileSync(out));
}

interface ObjdumpLine { address: number; text: string }

function objdump(bytes: Uint8Array, base: number): ObjdumpLine[] {
  const bin = join(dir, 'objdump.bin');
  writeFileSync(bin, bytes);
  const out = execFileSync('objdump', ['-D', '-b', 'binary', '-m', 'i386', '-M', 'intel', `--adjust-vma=${hexOf(base)}`, '--insn-width=16', bin], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines: ObjdumpLine[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t[0-9a-f ]+\t(.*)$/.exec(line);
    if (m) lines.push({ address: parseInt(m[1], 16), text: m[2].trim() });
  }
  return lines;
}

const hexOf = (n: number): string => `0x${n.toString(16)}`;

// ---------------------------------------------------------------------------------------
// A canonical reading both sides are reduced to.

interface Canon {
  /** lock, rep, repne, and a segment override that has no memory operand to live in. */
  prefixes: string[];
  mnemonic: string;
  operands: string[];
}

/** Mnemonic spellings that differ only in name. */
const SAME_MNEMONIC: Readonly<Record<string, string>> = {
  // D0-D3/C0-C1 /6 is an undocumented alias of /4; objdump and the table's canonical row say shl.
  sal: 'shl',
  // objdump marks the operand size of lgdt & co. with a suffix; NASM and the table have none.
  lgdtd: 'lgdt', lidtd: 'lidt', sgdtd: 'sgdt', sidtd: 'sidt',
  lgdtw: 'lgdt', lidtw: 'lidt', sgdtw: 'sgdt', sidtw: 'sidt',
  // objdump appends w/d to push imm, jmp/call rel16 and ret under 0x66; the operand says it.
  pushw: 'push', pushd: 'push', popw: 'pop', jmpw: 'jmp', callw: 'call', retw: 'ret', retfw: 'retf',
  enterw: 'enter', leavew: 'leave',
  // objdump's name for xlatb (it prints the implicit [ebx] operand instead of the suffix).
  xlat: 'xlatb',
};

/** Instructions that read ds:[esi] (or ds:[ebx]); stos/scas/ins only use es:[edi]. */
const DS_SOURCE = /^(movs|cmps|lods|outs)[bwd]$|^xlatb$/;
const STRING_OPS = new Set(['movs', 'cmps', 'scas', 'lods', 'stos', 'ins', 'outs']);
const SUFFIX: Readonly<Record<string, string>> = { BYTE: 'b', WORD: 'w', DWORD: 'd' };
const PTR_BITS: Readonly<Record<string, number>> = { BYTE: 8, WORD: 16, DWORD: 32, FWORD: 48, QWORD: 64 };
const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

function signedHex(n: number): string {
  return n < 0 ? `-${hexOf(-n)}` : `+${hexOf(n)}`;
}

/** m<bits|*>:<seg>[base+index*scale±disp]; ds is dropped because objdump prints `ds:` for
 *  every absolute address, prefix or not. */
function canonMemory(bits: number | null, seg: string | null, base: string | null, index: string | null, scale: number, disp: number, addrBits = 32): string {
  const terms: string[] = [];
  if (base) terms.push(base);
  if (index) terms.push(`${index}*${scale}`);
  const abs = addrBits === 16 ? disp & 0xffff : disp >>> 0;
  const addr = terms.length === 0 ? hexOf(abs) : terms.join('+') + (disp === 0 ? '' : signedHex(disp));
  const s = seg && seg !== 'ds' ? `${seg}:` : '';
  return `m${bits === null ? '*' : bits}:${s}[${addr}]`;
}

function parseNumber(text: string): number {
  const neg = text.startsWith('-');
  const t = neg ? text.slice(1) : text;
  const v = t.startsWith('0x') ? parseInt(t.slice(2), 16) : parseInt(t, 10);
  return neg ? -v : v;
}

/** One objdump operand: `DWORD PTR fs:[ebx+ecx*4+0x10]`, `ds:0x10`, `0x10:0x1000`, `eax`, `0x5`. */
function canonObjdumpOperand(text: string): string {
  let t = text.trim();
  let bits: number | null = null;
  const ptr = /^(BYTE|WORD|DWORD|FWORD|QWORD) PTR (.*)$/.exec(t);
  if (ptr) { bits = PTR_BITS[ptr[1]]; t = ptr[2]; }
  const mem = /^(?:([a-z]s):)?\[(.*)\]$/.exec(t);
  if (mem) return canonObjdumpAddress(bits, mem[1] ?? null, mem[2]);
  const abs = /^([a-z]s):(0x[0-9a-f]+)$/.exec(t);
  if (abs) return canonMemory(bits, abs[1], null, null, 1, parseNumber(abs[2]));
  const far = /^(0x[0-9a-f]+):(0x[0-9a-f]+)$/.exec(t);
  if (far) return `far ${hexOf(parseNumber(far[1]))}:${hexOf(parseNumber(far[2]))}`;
  if (/^-?(0x[0-9a-f]+|\d+)$/.test(t)) return hexOf(parseNumber(t) >>> 0);
  return t;
}

/** objdump addresses: the second bare register is the index; `eiz` is "no index". */
function canonObjdumpAddress(bits: number | null, seg: string | null, expr: string): string {
  let base: string | null = null;
  let index: string | null = null;
  let scale = 1;
  let disp = 0;
  for (const m of expr.matchAll(/([+-]?)([^+-]+)/g)) {
    const term = m[2];
    const scaled = /^([a-z]+)\*(\d)$/.exec(term);
    if (scaled) {
      if (scaled[1] !== 'eiz') { index = scaled[1]; scale = Number(scaled[2]); }
    } else if (/^[a-z]+$/.test(term)) {
      if (base === null) base = term; else index = term;
    } else {
      disp += (m[1] === '-' ? -1 : 1) * parseNumber(term);
    }
  }
  return canonMemory(bits, seg, base, index, scale, disp);
}

function splitOperands(text: string): string[] {
  return text.length === 0 ? [] : text.split(',').map((s) => s.trim());
}

/** Parses one objdump line into the canonical reading. */
function canonObjdump(text: string): Canon {
  const tokens = text.split(/\s+/);
  const prefixes: string[] = [];
  let addr16 = false;
  let i = 0;
  for (; i < tokens.length - 1; i++) {
    const t = tokens[i];
    // data16/addr16 mark prefixes objdump thinks unused; the operands already show the size
    // (but for loop, whose count register objdump leaves out: cx under addr16).
    if (t === 'data16') continue;
    if (t === 'addr16') {
      addr16 = true;
      continue;
    }
    if (t === 'lock') prefixes.push('lock');
    // xrelease/xacquire (TSX) and bnd (MPX) are newer names for F3/F2 on some instructions.
    else if (t === 'rep' || t === 'repz' || t === 'repe' || t === 'xrelease') prefixes.push('rep');
    else if (t === 'repnz' || t === 'repne' || t === 'bnd' || t === 'xacquire') prefixes.push('repne');
    else if (SEGS.includes(t)) prefixes.push(t);
    else if (t === 'notrack') prefixes.push('notrack');
    else break;
  }
  let mnemonic = tokens[i];
  let operands = splitOperands(tokens.slice(i + 1).join(' '));
  if (STRING_OPS.has(mnemonic) || mnemonic === 'xlat') {
    // objdump spells movsd as `movs DWORD PTR es:[edi],DWORD PTR ds:[esi]`: the size gives the
    // suffix, an override shows up on the source operand, the registers show the address size.
    const size = /(BYTE|WORD|DWORD) PTR/.exec(operands.join(','));
    if (mnemonic !== 'xlat' && size) mnemonic += SUFFIX[size[1]];
    const src = operands.map((o) => /([a-z]s):\[e?(si|bx)\]/.exec(o)).find((m) => m);
    if (src && src[1] !== 'ds') prefixes.push(src[1]);
    operands = [];
  }
  mnemonic = SAME_MNEMONIC[mnemonic] ?? mnemonic;
  if (addr16 && /^loop/.test(mnemonic)) operands.push('cx');
  const ops = operands.map(canonObjdumpOperand);
  // notrack is CET's name for 3E on indirect branches: a ds override (dropped in memory).
  const nt = prefixes.indexOf('notrack');
  if (nt >= 0) prefixes.splice(nt, 1, ...(ops.some((o) => o.startsWith('m')) ? [] : ['ds']));
  return finish({ prefixes, mnemonic, operands: ops });
}

function canonOperand(op: DecodedOperand): string {
  switch (op.type) {
    case 'reg': return op.reg.name;
    case 'imm': return hexOf(op.extended);
    case 'rel': return hexOf(op.target);
    case 'far': return `far ${hexOf(op.selector)}:${hexOf(op.offset)}`;
    case 'mem': return canonMemory(op.bits === 0 ? null : op.bits, op.segment, op.base?.name ?? null, op.index?.name ?? null, op.scale, op.disp, op.addrBits);
  }
}

function canonDecoded(insn: DecodedInstruction): Canon {
  const p = insn.prefixes;
  const prefixes: string[] = [];
  if (p.lock) prefixes.push('lock');
  if (p.rep) prefixes.push(p.rep);
  const mnemonic = SAME_MNEMONIC[insn.form.mnemonic] ?? insn.form.mnemonic;
  // ds is the default segment of a string operation's source, which objdump prints as ds:[esi].
  const dsDefault = p.segment === 'ds' && DS_SOURCE.test(mnemonic);
  if (p.segment && !dsDefault && !insn.operands.some((o) => o.type === 'mem')) prefixes.push(p.segment);
  const operands = insn.operands.map(canonOperand);
  return finish({ prefixes, mnemonic, operands });
}

function finish(c: Canon): Canon {
  c.prefixes.sort();
  // 90 is literally xchg eax, eax; 87 C0 (the ModRM spelling) does the same nothing.
  if (c.mnemonic === 'xchg' && c.operands.join() === 'eax,eax') { c.mnemonic = 'nop'; c.operands = []; }
  // pause is F3 90, i.e. rep nop (so `rep xchg eax, eax` comes back from NASM as pause).
  if (c.mnemonic === 'pause') { c.mnemonic = 'nop'; c.prefixes.push('rep'); }
  c.prefixes.sort();
  // xchg is symmetric and the table lists both orders; objdump prints the ModRM r/m (or the
  // +r register) first, the decoder the table's first row.
  if (c.mnemonic === 'xchg') c.operands.sort();
  return c;
}

/** Memory sizes agree unless one side has none (m* = unsized lea/lgdt/invlpg). */
function sameCanon(a: Canon, b: Canon): boolean {
  if (a.mnemonic !== b.mnemonic || a.prefixes.join() !== b.prefixes.join() || a.operands.length !== b.operands.length) return false;
  return a.operands.every((x, i) => {
    const y = b.operands[i];
    if (x === y) return true;
    const mx = /^m(\d+|\*):(.*)$/.exec(x);
    const my = /^m(\d+|\*):(.*)$/.exec(y);
    return !!mx && !!my && mx[2] === my[2] && (mx[1] === '*' || my[1] === '*');
  });
}

const show = (c: Canon): string => `${[...c.prefixes, c.mnemonic].join(' ')} ${c.operands.join(', ')}`;

// ---------------------------------------------------------------------------------------
// Encodings NASM never emits. For these the reassembled bytes may differ; the test then
// compares the decoded meaning of NASM's bytes instead.

interface Ambiguity { name: string; test: (insn: DecodedInstruction, bytes: Uint8Array) => boolean }

/** NASM writes prefixes in this order: F2/F3, F0, segment, 66, 67. */
function prefixRank(b: number): number {
  return b === 0xf2 || b === 0xf3 ? 0 : b === 0xf0 ? 1 : b === 0x66 ? 3 : b === 0x67 ? 4 : 2;
}

function nasmPrefixOrder(i: DecodedInstruction): number[] {
  const mandatory = i.form.opcode.length > 1 && [0xf2, 0xf3, 0x66].includes(i.form.opcode[0]) ? i.form.opcode[0] : -1;
  const rest = [...i.prefixes.bytes];
  if (mandatory >= 0) rest.splice(rest.lastIndexOf(mandatory), 1);
  rest.sort((a, b) => prefixRank(a) - prefixRank(b));
  return mandatory >= 0 ? [...rest, mandatory] : rest;
}

function memoryOf(i: DecodedInstruction): MemoryOperand | undefined {
  return i.operands.find((o): o is MemoryOperand => o.type === 'mem');
}

/** The ModRM r/m operand is a register (mod = 3). */
function registerRm(i: DecodedInstruction): boolean {
  return i.form.modrm !== undefined && !memoryOf(i) && i.operands.some((o, k) => o.type === 'reg' && /^rm/.test(i.form.operands[k]));
}

const KNOWN_AMBIGUOUS: readonly Ambiguity[] = [
  // decodeOnly rows (82 /digit, F6/F7 /1 test, shift /6 sal): NASM writes the canonical row.
  { name: 'decode-only alias', test: (i) => i.form.decodeOnly },
  // Prefixes in another order than NASM's fixed one (a mandatory prefix, F3 of pause, is
  // part of the opcode and comes last).
  { name: 'prefix order', test: (i) => i.prefixes.bytes.join() !== nasmPrefixOrder(i).join() },
  // `op r, r` has two encodings (88/8A, 01/03, ...); NASM always writes the r/m-first one.
  {
    name: 'register-register direction',
    test: (i) => registerRm(i) && formsOf(i.form.mnemonic).some((f) => f !== i.form && f.modrm === 'r' && f.opsize === i.form.opsize && f.operands.join() === [...i.form.operands].reverse().join()),
  },
  // A ModRM register operand where a shorter form exists: `C7 C0 imm` (mov eax, imm = B8),
  // `81 C0 imm` (add eax = 05), `FF C0` (inc eax = 40), `87 C8` (xchg eax, ecx = 91).
  {
    name: 'register has a short form',
    test: (i) => registerRm(i) && formsOf(i.form.mnemonic).some((f) => f.modrm === undefined && f.operands.length === i.form.operands.length),
  },
  // A SIB byte without an index: NASM only writes one for [esp] (and then with scale bits
  // 0), and none for other bases or an absolute address.
  {
    name: 'SIB without index',
    test: (i) => { const m = memoryOf(i); return !!m && m.sib && !m.index; },
  },
  // mov eax, [abs] through ModRM (8B 05): NASM takes the moffs form (A1).
  {
    name: 'absolute accumulator move',
    test: (i) => { const m = memoryOf(i); return i.form.mnemonic === 'mov' && i.form.modrm !== undefined && !!m && !m.base && !m.index && i.operands.some((o) => o.type === 'reg' && o.reg.num === 0 && o.reg.cls !== 'sreg'); },
  },
  // mov to/from CR/DR ignores the mod bits; NASM writes mod = 3.
  {
    name: 'control register mod bits',
    test: (i, b) => i.form.operands.some((k) => k === 'creg' || k === 'dreg') && b[i.prefixes.bytes.length + 2] < 0xc0,
  },
];

function ambiguity(insn: DecodedInstruction, bytes: Uint8Array): string | null {
  return KNOWN_AMBIGUOUS.find((a) => a.test(insn, bytes))?.name ?? null;
}

// ---------------------------------------------------------------------------------------

interface Assembled {
  entries: CorpusLine[];
  bytes: Uint8Array;
  /** Our decode of each objdump instruction. */
  insns: { address: number; offset: number; insn: DecodedInstruction | null; objdump: string }[];
}

let assembled: Assembled | null = null;

function corpusAssembled(): Assembled {
  if (assembled) return assembled;
  const entries = corpus();
  const bytes = nasm(entries.map((e) => e.line), BASE);
  const insns = objdump(bytes, BASE).map((o) => {
    const offset = o.address - BASE;
    const r = decode(bytes, offset, o.address);
    return { address: o.address, offset, insn: r.ok ? r.insn : null, objdump: o.text };
  });
  assembled = { entries, bytes, insns };
  return assembled;
}

describe('corpus', () => {
  it('has lines for every non-decodeOnly form except those NASM rejects', () => {
    const covered = new Set(corpus().map((c) => c.form.index));
    const missing = FORMS.filter((f) => !f.decodeOnly && !covered.has(f.index)).map((f) => `${f.mnemonic} ${f.operands.join(',')}`);
    expect(missing.sort()).toEqual(Object.keys(NASM_UNSUPPORTED).sort());
  });

  it('assembles with nasm to one objdump instruction per line', () => {
    const a = corpusAssembled();
    expect(a.insns.length).toBe(a.entries.length);
  });

  it('exercises every form: some line of each decodes to that form or to an identical encoding', () => {
    const a = corpusAssembled();
    const decodedBy = new Map<number, Set<number>>();
    a.entries.forEach((e, k) => {
      const insn = a.insns[k]?.insn;
      if (!insn) return;
      const set = decodedBy.get(e.form.index) ?? new Set<number>();
      set.add(insn.form.index);
      decodedBy.set(e.form.index, set);
    });
    const unexercised = a.entries
      .map((e) => e.form)
      .filter((f, i, all) => all.indexOf(f) === i)
      .filter((f) => ![...(decodedBy.get(f.index) ?? [])].some((g) => sameEncoding(f, FORMS[g])))
      .map((f) => `${f.mnemonic} ${f.operands.join(',')}`);
    expect(unexercised).toEqual([]);
  });
});

/** Two forms that produce the same bytes for the same operands (aliases like jc/jb, sal/shl). */
function sameEncoding(f: InstructionForm, g: InstructionForm): boolean {
  if (f === g) return true;
  const opsizeOk = f.opsize === g.opsize || f.opsize === 0 || g.opsize === 0;
  return opsizeOk && f.opcode.join() === g.opcode.join() && f.modrm === g.modrm && JSON.stringify(f.tail) === JSON.stringify(g.tail);
}

describe('(a) decoder vs objdump on the nasm corpus', () => {
  it('agrees on instruction boundaries', () => {
    const a = corpusAssembled();
    const bad = a.insns.filter((x, k) => {
      const next = k + 1 < a.insns.length ? a.insns[k + 1].offset : a.bytes.length;
      return !x.insn || x.insn.length !== next - x.offset;
    });
    expect(bad.slice(0, 20).map((x) => `${hexOf(x.address)} ${x.objdump}`)).toEqual([]);
  });

  it('agrees on mnemonics and operands after normalisation', () => {
    const a = corpusAssembled();
    const diffs: string[] = [];
    a.insns.forEach((x, k) => {
      if (!x.insn) return;
      const ours = canonDecoded(x.insn);
      const theirs = canonObjdump(x.objdump);
      if (!sameCanon(ours, theirs)) diffs.push(`${a.entries[k].line}  |  ours: ${show(ours)}  objdump: ${show(theirs)}`);
    });
    expect(diffs.slice(0, 30)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Reassembly: each instruction is formatted for its own 16-byte slot (so a different length
// NASM picks cannot shift the others), the whole file is assembled once, slots compared.

interface Item { bytes: Uint8Array; offset: number }

const SLOT = 16;
const SLOT_BASE = 0x10000000;

/** Formats every instruction at its own 16-byte slot, assembles, returns the slots. */
function reassemble(items: Item[]): { texts: string[]; out: Uint8Array } {
  const texts = items.map((it, k) => {
    const r = decode(it.bytes, it.offset, SLOT_BASE + SLOT * k);
    if (!r.ok) throw new Error(`does not decode at ${it.offset}`);
    return formatLine(r.insn, it.bytes.slice(it.offset, it.offset + r.insn.length));
  });
  const lines = texts.flatMap((t, k) => [`times ${SLOT * k}-($-$$) db 0xcc`, t]);
  return { texts, out: nasm(lines, SLOT_BASE) };
}

function compareAll(items: Item[]): { exact: number; ambiguous: Record<string, number>; failures: string[] } {
  const { texts, out } = reassemble(items);
  const ambiguous: Record<string, number> = {};
  const failures: string[] = [];
  let exact = 0;
  items.forEach((it, k) => {
    const r = decode(it.bytes, it.offset, SLOT_BASE + SLOT * k);
    if (!r.ok) return;
    const orig = it.bytes.slice(it.offset, it.offset + r.insn.length);
    const slot = out.slice(SLOT * k, SLOT * k + SLOT);
    const again = decode(slot, 0, SLOT_BASE + SLOT * k);
    if (again.ok && again.insn.length === orig.length && orig.every((b, j) => slot[j] === b)) { exact++; return; }
    const why = ambiguity(r.insn, orig);
    const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
    const msg = `${texts[k]}: ${hexBytes(orig)} -> ${again.ok ? hexBytes(slot.slice(0, again.insn.length)) : 'undecodable'}`;
    if (why && again.ok && sameCanon(canonDecoded(r.insn), canonDecoded(again.insn))) ambiguous[why] = (ambiguous[why] ?? 0) + 1;
    else failures.push(why ? `${msg} (${why}, meaning differs)` : msg);
  });
  return { exact, ambiguous, failures };
}

describe('(b) disassembly reassembles with nasm', () => {
  it('gives back the corpus bytes', () => {
    const a = corpusAssembled();
    const items = a.insns.map((x) => ({ bytes: a.bytes, offset: x.offset }));
    const res = compareAll(items);
    expect(res.failures.slice(0, 30)).toEqual([]);
    expect(res.exact).toBe(items.length);
  });
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANDOM_PREFIXES = [0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67];

function repeatsGroup(prefixes: number[]): boolean {
  const group = (b: number) => (b === 0xf2 || b === 0xf3 ? 1 : b === 0xf0 ? 0 : b === 0x66 ? 2 : b === 0x67 ? 3 : 4);
  return new Set(prefixes.map(group)).size !== prefixes.length;
}

/** Random byte windows biased towards prefixes and the 0F map; the valid ones exercise
 *  encodings NASM never writes (mod 2 with small disp, SIB without index, reg,rm order...). */
function randomInstructions(count: number, seed: number): Item[] {
  const rnd = prng(seed);
  const byte = () => Math.floor(rnd() * 256);
  const out: Item[] = [];
  while (out.length < count) {
    const w: number[] = [];
    while (rnd() < 0.3) w.push(RANDOM_PREFIXES[Math.floor(rnd() * RANDOM_PREFIXES.length)]);
    if (rnd() < 0.3) w.push(0x0f);
    while (w.length < 15) w.push(byte());
    const bytes = Uint8Array.from(w);
    const r = decode(bytes, 0, 0);
    // repeated prefix groups become db lines, and objdump lists every one of them
    if (r.ok && !repeatsGroup([...r.insn.prefixes.bytes])) out.push({ bytes, offset: 0 });
  }
  return out;
}

/** Where objdump reads the same bytes differently from the IA-32 machine we model. */
const OBJDUMP_DIVERGENCES: readonly Ambiguity[] = [
  // Under 0x66 a jump truncates EIP to 16 bits (SDM Jcc/JMP/LOOP: EIP AND 0000FFFFH);
  // objdump truncates for rel16 but prints the untruncated target of a rel8.
  { name: 'o16 short branch target', test: (i) => i.opsize === 16 && i.operands.some((o) => o.type === 'rel' && o.bits === 8) },
  // F2/F3/66 before a 0F opcode that does not use them select other instructions on newer
  // CPUs (F3 0F BC tzcnt, F3 0F 09 wbnoinvd) or are (bad) to objdump; the IA-32 CPU modelled
  // here ignores them.
  {
    name: 'mandatory-prefix opcode of a newer CPU',
    test: (i) => i.form.opcode[0] === 0x0f && (i.prefixes.rep !== null || (i.prefixes.opsize && i.form.opsize === 0)),
  },
];

describe('(a) decoder vs objdump on random valid instructions', () => {
  it('agrees except for the listed divergences', () => {
    const items = randomInstructions(Number(process.env.RANDOM_COUNT ?? 6000), Number(process.env.RANDOM_SEED ?? 0x5eed) + 1);
    // Each instruction gets a 32-byte slot padded with nops: wherever objdump disagrees on a
    // length it is back in step at the next slot.
    const bytes = new Uint8Array(items.length * 32).fill(0x90);
    const offsets = items.map((it, k) => { bytes.set(it.bytes.slice(0, 15), k * 32); return k * 32; });
    const theirs = new Map(objdump(bytes, BASE).map((o) => [o.address - BASE, o.text]));
    const diffs: string[] = [];
    offsets.forEach((o) => {
      const r = decode(bytes, o, BASE + o);
      if (!r.ok) return;
      const text = theirs.get(o);
      const hexBytes = Array.from(bytes.slice(o, o + r.insn.length), (x) => x.toString(16).padStart(2, '0')).join(' ');
      if (text === undefined) { diffs.push(`${hexBytes}: objdump has no instruction here`); return; }
      const ours = canonDecoded(r.insn);
      const obj = canonObjdump(text);
      if (!sameCanon(ours, obj) && !OBJDUMP_DIVERGENCES.some((d) => d.test(r.insn, bytes))) diffs.push(`${hexBytes}  ours: ${show(ours)}  objdump: ${show(obj)} (${text})`);
    });
    expect(diffs.slice(0, 60)).toEqual([]);
  });
});

describe('(b) disassembly of random valid instructions', () => {
  it('reassembles to the same bytes or to a listed equivalent encoding', () => {
    const items = randomInstructions(Number(process.env.RANDOM_COUNT ?? 6000), Number(process.env.RANDOM_SEED ?? 0x5eed));
    const res = compareAll(items);
    expect(res.failures.slice(0, 40)).toEqual([]);
    // most random encodings are NASM's own; the rest fall in the listed categories
    expect(res.exact / items.length).toBeGreaterThan(0.9);
  });
});

describe('disassemble', () => {
  it('emits db for undecodable bytes and continues', () => {
    // d6 (salc) is not in the table, 0f 04 is no opcode, the final 0f is truncated
    const lines = disassemble(new Uint8Array([0x90, 0xd6, 0xc3, 0x0f, 0x04, 0x0f]), 0x1000);
    expect(lines.map((l) => [l.address, l.text, l.error])).toEqual([
      [0x1000, 'nop', undefined], [0x1001, 'db 0xd6', 'invalid-opcode'], [0x1002, 'ret', undefined],
      [0x1003, 'db 0xf', 'invalid-opcode'], [0x1004, 'add al, 0xf', undefined],
    ]);
  });

  it('names branch targets through the symbol callback', () => {
    const bytes = new Uint8Array([0xe8, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xfe, 0x74, 0x00]);
    const lines = disassemble(bytes, 0x2000, {
      symbol: (a) => (a === 0x2005 ? { name: 'loop', offset: 0 } : a === 0x2009 ? { name: 'start', offset: 9 } : undefined),
    });
    expect(lines.map((l) => l.text)).toEqual(['call loop', 'jmp short loop', 'je short start+0x9']);
  });

  it('writes repeated prefixes as db with the reading as a comment', () => {
    const lines = disassemble(new Uint8Array([0x66, 0x66, 0x90]), 0);
    expect(lines[0].text).toBe('db 0x66, 0x66, 0x90 ; xchg ax, ax');
    expect(lines[0].length).toBe(3);
  });

  it('formats representative instructions', () => {
    const text = (hex: string, address = 0x1000): string => {
      const bytes = Uint8Array.from(hex.split(' ').map((h) => parseInt(h, 16)));
      const r = decode(bytes, 0, address);
      if (!r.ok) throw new Error(r.reason);
      return formatInstruction(r.insn);
    };
    expect(text('8b 44 8b 10')).toBe('mov eax, [ebx+ecx*4+0x10]');
    expect(text('64 a1 10 00 00 00')).toBe('mov eax, [fs:0x10]');
    expect(text('c7 00 05 00 00 00')).toBe('mov dword [eax], 0x5');
    expect(text('f0 0f b1 0a')).toBe('lock cmpxchg [edx], ecx');
    expect(text('f3 a6')).toBe('repe cmpsb');
    expect(text('66 6a ff')).toBe('push word 0xffff');
    expect(text('68 05 00 00 00')).toBe('push strict dword 0x5');
    expect(text('ea 00 10 00 00 10 00')).toBe('jmp 0x10:0x1000');
    expect(text('ff 2c 24')).toBe('jmp far [esp]');
    expect(text('e9 00 00 00 00')).toBe('jmp near 0x1005');
    expect(text('8b 45 f0')).toBe('mov eax, [ebp-0x10]');
    expect(text('8b 40 00')).toBe('mov eax, [byte eax+0x0]');
    expect(text('67 8b 00')).toBe('mov eax, [bx+si]');
    expect(text('67 ac')).toBe('a16 lodsb');
    expect(text('66 8e d8')).toBe('o16 mov ds, ax');
    expect(text('c1 e0 01')).toBe('shl eax, strict byte 0x1');
    expect(text('81 c1 05 00 00 00')).toBe('add ecx, strict dword 0x5');
    expect(text('83 c1 ff')).toBe('add ecx, 0xffffffff');
    expect(text('8b 04 4d 10 00 00 00')).toBe('mov eax, [nosplit ecx*2+0x10]');
    expect(text('8b 80 10 00 00 00')).toBe('mov eax, [dword eax+0x10]');
    expect(text('0f 84 00 00 00 00')).toBe('je near 0x1006');
    expect(text('eb 00')).toBe('jmp short 0x1002');
    expect(text('66 e9 00 00')).toBe('jmp near word 0x1004');
    expect(text('66 ff 28')).toBe('jmp far word [eax]');
    expect(text('66 ea 34 12 10 00')).toBe('jmp word 0x10:0x1234');
    expect(text('f2 e8 00 00 00 00')).toBe('bnd call 0x1006');
    expect(text('d1 e0')).toBe('shl eax, 1');
    expect(text('0f b6 03')).toBe('movzx eax, byte [ebx]');
    expect(text('ff 30')).toBe('push dword [eax]');
    expect(text('ff 20')).toBe('jmp [eax]');
    expect(text('8d 04 8b')).toBe('lea eax, [ebx+ecx*4]');
    expect(text('0f 01 15 00 10 00 00')).toBe('lgdt [0x1000]');
    expect(text('67 a1 34 12')).toBe('a16 mov eax, [0x1234]');
    expect(text('2e 74 00')).toBe('cs je short 0x1003');
  });
});
