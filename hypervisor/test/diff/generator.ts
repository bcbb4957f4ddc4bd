// Random instruction sequences for the differential test against real hardware. Each
// case starts from random registers, flags and buffer contents, runs a short sequence
// and records the registers, EFLAGS and the buffer. The generator tracks which status
// flags the sequence leaves undefined (Intel SDM) so they are left out of the comparison,
// and never lets an instruction read an undefined flag. Sequences stay inside the buffer
// and the stack, never divide by zero or overflow a quotient, and never trap.

export const BUF_SIZE = 256;
/** Memory operands address [buf + MEM_LO, buf + MEM_HI). */
const MEM_LO = 64, MEM_HI = 192;

export const F_CF = 1, F_PF = 4, F_AF = 16, F_ZF = 64, F_SF = 128, F_OF = 2048;
const ALL = F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF;

export interface Case {
  regs: number[]; // eax ecx edx ebx (esp ignored) ebp esi edi
  flags: number; // status flags and DF to load with popfd
  buf: Uint8Array;
  lines: string[];
  /** Status flags undefined at the end: not compared. */
  undefinedFlags: number;
}

/** Deterministic PRNG (mulberry32). */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
  /** A 32-bit value biased towards edge cases. */
  value(): number {
    const r = this.int(10);
    if (r < 3) return this.pick([0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x80000001]);
    if (r < 5) return this.int(64);
    return this.u32();
  }
}

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const CCS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
/** Flags each condition code reads. */
const CC_READS: Record<string, number> = {
  o: F_OF, no: F_OF, b: F_CF, ae: F_CF, e: F_ZF, ne: F_ZF, be: F_CF | F_ZF, a: F_CF | F_ZF,
  s: F_SF, ns: F_SF, p: F_PF, np: F_PF, l: F_SF | F_OF, ge: F_SF | F_OF, le: F_ZF | F_SF | F_OF, g: F_ZF | F_SF | F_OF,
};
const SIZES = ['byte', 'word', 'dword'] as const;
const BITS: Record<string, number> = { byte: 8, word: 16, dword: 32 };

class Builder {
  readonly lines: string[] = [];
  undef = 0;
  depth = 0;
  labels = 0;
  constructor(readonly rng: Rng, readonly id: number) {}

  emit(line: string, reads = 0, writes = 0, undefines = 0): void {
    if (reads & this.undef) this.defineAll();
    this.lines.push(line);
    this.undef = (this.undef & ~writes) | undefines;
  }

  /** An instruction that defines every status flag and changes no register. */
  defineAll(): void {
    this.lines.push(this.rng.pick(['cmp eax, ebx', 'test ecx, edx', 'add esi, 0', 'cmp byte [buf + 70], 3']));
    this.undef = 0;
  }

  reg(bits: number): string {
    return this.rng.pick(bits === 32 ? R32 : bits === 16 ? R16 : R8);
  }

  mem(size: string): string {
    const bytes = BITS[size] / 8;
    return `${size} [buf + ${MEM_LO + this.rng.int(MEM_HI - MEM_LO - bytes)}]`;
  }

  /** A register or memory operand of a size (the size keyword on memory). */
  rm(size: string): string {
    return this.rng.int(3) === 0 ? this.mem(size) : this.reg(BITS[size]);
  }

  imm(bits: number): string {
    const v = this.rng.value();
    return String(bits === 32 ? v : v & ((1 << bits) - 1));
  }

  label(): string {
    return `.c${this.id}_${this.labels++}`;
  }
}

type Gen = (b: Builder) => void;

const ALU2 = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

const GENERATORS: Gen[] = [
  // two-operand ALU in every operand combination and size
  (b) => {
    const op = b.rng.pick(ALU2);
    const size = b.rng.pick(SIZES);
    const bits = BITS[size];
    const reads = op === 'adc' || op === 'sbb' ? F_CF : 0;
    const undef = op === 'and' || op === 'or' || op === 'xor' ? F_AF : 0;
    const form = b.rng.int(4);
    const line =
      form === 0 ? `${op} ${b.reg(bits)}, ${b.reg(bits)}`
      : form === 1 ? `${op} ${b.rm(size)}, ${b.imm(bits)}`
      : form === 2 ? `${op} ${b.reg(bits)}, ${b.mem(size)}`
      : `${op} ${b.mem(size)}, ${b.reg(bits)}`;
    b.emit(line, reads, ALL, undef);
  },
  // sign-extended imm8 forms
  (b) => {
    const op = b.rng.pick(ALU2);
    const size = b.rng.pick(['word', 'dword']);
    const reads = op === 'adc' || op === 'sbb' ? F_CF : 0;
    const undef = op === 'and' || op === 'or' || op === 'xor' ? F_AF : 0;
    b.emit(`${op} ${b.rm(size)}, byte ${b.rng.int(256) - 128}`, reads, ALL, undef);
  },
  (b) => {
    const size = b.rng.pick(SIZES);
    b.emit(`test ${b.rm(size)}, ${b.rng.int(2) ? b.reg(BITS[size]) : b.imm(BITS[size])}`, 0, ALL, F_AF);
  },
  (b) => {
    const op = b.rng.pick(['inc', 'dec', 'neg', 'not']);
    const size = b.rng.pick(SIZES);
    const writes = op === 'not' ? 0 : op === 'neg' ? ALL : ALL & ~F_CF;
    b.emit(`${op} ${b.rm(size)}`, 0, writes, 0);
  },
  // shifts and rotates: counts 0, 1, small, >= size and > 31
  (b) => {
    const op = b.rng.pick(['rol', 'ror', 'rcl', 'rcr', 'shl', 'sal', 'shr', 'sar']);
    const size = b.rng.pick(SIZES);
    const bits = BITS[size];
    const raw = b.rng.pick([0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, b.rng.int(256)]);
    const byCl = b.rng.int(2) === 0;
    if (byCl) b.emit(`mov cl, ${raw}`);
    const dst = byCl ? b.rng.pick([b.mem(size), b.rng.pick(bits === 8 ? ['al', 'dl', 'bl', 'ah', 'dh', 'bh'] : bits === 16 ? ['ax', 'dx', 'bx', 'si', 'di', 'bp'] : ['eax', 'edx', 'ebx', 'esi', 'edi', 'ebp'])]) : b.rm(size);
    const count = raw & 31;
    const rotate = op[0] === 'r';
    const reads = op === 'rcl' || op === 'rcr' ? F_CF : 0;
    let writes = 0, undef = 0;
    if (count !== 0) {
      if (rotate) {
        writes = F_CF | F_OF;
        if (count !== 1) undef = F_OF;
      } else {
        writes = ALL;
        undef = F_AF | (count !== 1 ? F_OF : 0) | (count >= bits && op !== 'sar' ? F_CF : 0);
      }
    }
    const line = `${op} ${dst}, ${byCl ? 'cl' : String(raw & 255)}`;
    b.emit(line, reads, writes, undef);
  },
  // shld/shrd (16-bit counts up to 16: beyond that the result is undefined)
  (b) => {
    const op = b.rng.pick(['shld', 'shrd']);
    const size = b.rng.pick(['word', 'dword']);
    const bits = BITS[size];
    let count = b.rng.pick([0, 1, 2, 5, 8, 15, 16, 17, 31, b.rng.int(32)]);
    if (bits === 16 && count > 16) count = 16;
    const byCl = b.rng.int(2) === 0;
    if (byCl) b.emit(`mov cl, ${count + (b.rng.int(2) ? 32 : 0)}`);
    const regs = bits === 16 ? ['ax', 'dx', 'bx', 'si', 'di', 'bp'] : ['eax', 'edx', 'ebx', 'esi', 'edi', 'ebp'];
    const dst = b.rng.int(3) === 0 ? b.mem(size) : b.rng.pick(regs);
    const src = b.rng.pick(regs);
    const undef = count === 0 ? 0 : F_AF | (count !== 1 ? F_OF : 0);
    b.emit(`${op} ${dst}, ${src}, ${byCl ? 'cl' : count}`, 0, count ? ALL : 0, undef);
  },
  // multiplies
  (b) => {
    const size = b.rng.pick(SIZES);
    b.emit(`${b.rng.pick(['mul', 'imul'])} ${b.rm(size)}`, 0, ALL, F_SF | F_ZF | F_AF | F_PF);
  },
  (b) => {
    const size = b.rng.pick(['word', 'dword']);
    const bits = BITS[size];
    const form = b.rng.int(3);
    const line = form === 0 ? `imul ${b.reg(bits)}, ${b.rm(size)}`
      : form === 1 ? `imul ${b.reg(bits)}, ${b.rm(size)}, ${b.imm(bits)}`
      : `imul ${b.reg(bits)}, ${b.rm(size)}, byte ${b.rng.int(256) - 128}`;
    b.emit(line, 0, ALL, F_SF | F_ZF | F_AF | F_PF);
  },
  // divides, set up so the quotient fits
  (b) => {
    const size = b.rng.pick(SIZES);
    const bits = BITS[size];
    const signedDiv = b.rng.int(2) === 0;
    const divisor = Math.max(1, b.rng.value() & (bits === 32 ? 0xffffffff : (1 << bits) - 1)) >>> 0;
    const src = bits === 8 ? 'bl' : bits === 16 ? 'bx' : 'ebx';
    const viaMem = b.rng.int(2) === 0;
    const operand = viaMem ? `${size} [buf + 80]` : src;
    b.emit(viaMem ? `mov ${size} [buf + 80], ${divisor & (bits === 32 ? -1 : (1 << bits) - 1)}` : `mov ${src}, ${divisor}`);
    if (!signedDiv) {
      // high half < divisor: the quotient fits
      const hi = b.rng.int(4) === 0 ? divisor - 1 : b.rng.u32() % divisor;
      if (bits === 8) b.emit(`mov ah, ${hi & 0xff}`);
      else b.emit(`mov ${bits === 16 ? 'dx' : 'edx'}, ${hi >>> 0}`);
      b.emit(`div ${operand}`, 0, ALL, ALL);
    } else {
      // dividend = sign extension of the low half; divisor not -1 so no overflow
      const d = (bits === 32 ? divisor | 0 : bits === 16 ? (divisor << 16) >> 16 : (divisor << 24) >> 24);
      if (d === -1) return;
      if (bits === 8) b.emit('cbw');
      else b.emit(bits === 16 ? 'cwd' : 'cdq');
      b.emit(`idiv ${operand}`, 0, ALL, ALL);
    }
  },
  // bit tests
  (b) => {
    const op = b.rng.pick(['bt', 'bts', 'btr', 'btc']);
    const size = b.rng.pick(['word', 'dword']);
    const bits = BITS[size];
    const form = b.rng.int(3);
    if (form === 0) b.emit(`${op} ${b.rm(size)}, ${b.rng.int(256)}`, 0, F_CF, F_OF | F_SF | F_AF | F_PF);
    else if (form === 1) {
      const r = bits === 16 ? 'dx' : 'edx';
      b.emit(`mov ${r}, ${b.rng.int(bits * 4)}`);
      b.emit(`${op} ${b.rng.pick(bits === 16 ? ['ax', 'bx', 'si'] : ['eax', 'ebx', 'esi'])}, ${r}`, 0, F_CF, F_OF | F_SF | F_AF | F_PF);
    } else {
      // a register bit offset reaches beyond the operand, backwards too
      const r = bits === 16 ? 'dx' : 'edx';
      b.emit(`mov edx, ${b.rng.int(512) - 256}`);
      b.emit(`${op} ${size} [buf + 128], ${r}`, 0, F_CF, F_OF | F_SF | F_AF | F_PF);
    }
  },
  (b) => {
    const size = b.rng.pick(['word', 'dword']);
    b.emit(`${b.rng.pick(['bsf', 'bsr'])} ${b.reg(BITS[size])}, ${b.rm(size)}`, 0, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
  },
  // flag consumers
  (b) => {
    const cc = b.rng.pick(CCS);
    b.emit(`set${cc} ${b.rm('byte')}`, CC_READS[cc]);
  },
  (b) => {
    const cc = b.rng.pick(CCS);
    const size = b.rng.pick(['word', 'dword']);
    b.emit(`cmov${cc} ${b.reg(BITS[size])}, ${b.rm(size)}`, CC_READS[cc]);
  },
  (b) => {
    // a forward branch over one instruction that touches no flags
    const cc = b.rng.pick(CCS);
    const l = b.label();
    b.emit(`j${cc} ${b.rng.int(2) ? 'short ' : 'near '}${l}`, CC_READS[cc]);
    b.emit(`mov ${b.reg(32)}, ${b.rng.u32()}`);
    b.lines.push(`${l}:`);
  },
  (b) => {
    const op = b.rng.pick(['loop', 'loope', 'loopne', 'jecxz', 'jcxz']);
    const l = b.label();
    b.emit(`mov ecx, ${b.rng.pick([0, 1, 2, 0x10000, b.rng.u32()])}`);
    b.emit(`${op} ${l}`, op === 'loope' || op === 'loopne' ? F_ZF : 0);
    b.emit(`not ${b.reg(32)}`);
    b.lines.push(`${l}:`);
  },
  (b) => b.emit(b.rng.pick(['clc', 'stc']), 0, F_CF),
  (b) => b.emit('cmc', F_CF, F_CF),
  (b) => b.emit('lahf', ALL & ~F_OF),
  (b) => b.emit('sahf', 0, ALL & ~F_OF),
  // data movement
  (b) => {
    const size = b.rng.pick(SIZES);
    const bits = BITS[size];
    const f = b.rng.int(3);
    b.emit(f === 0 ? `mov ${b.reg(bits)}, ${b.rm(size)}` : f === 1 ? `mov ${b.mem(size)}, ${b.reg(bits)}` : `mov ${b.rm(size)}, ${b.imm(bits)}`);
  },
  (b) => {
    const op = b.rng.pick(['movzx', 'movsx']);
    const from = b.rng.pick(['byte', 'word']);
    const to = from === 'byte' ? b.rng.pick([16, 32]) : 32;
    b.emit(`${op} ${b.reg(to)}, ${b.rm(from)}`);
  },
  (b) => {
    const size = b.rng.pick(SIZES);
    const bits = BITS[size];
    b.emit(`xchg ${b.reg(bits)}, ${b.rm(size)}`);
  },
  (b) => {
    const size = b.rng.pick(SIZES);
    b.emit(`xadd ${b.rm(size)}, ${b.reg(BITS[size])}`, 0, ALL);
  },
  (b) => {
    const size = b.rng.pick(SIZES);
    b.emit(`cmpxchg ${b.rm(size)}, ${b.reg(BITS[size])}`, 0, ALL);
  },
  (b) => b.emit(`cmpxchg8b [buf + ${MEM_LO + b.rng.int(MEM_HI - MEM_LO - 8)}]`, 0, F_ZF),
  (b) => b.emit(`bswap ${b.reg(32)}`),
  (b) => b.emit(b.rng.pick(['cbw', 'cwde', 'cwd', 'cdq'])),
  (b) => b.emit(`lea ${b.reg(32)}, [${b.reg(32)} + ${b.rng.pick(['', `${b.reg(32)}*${b.rng.pick([1, 2, 4, 8])} + `])}${b.rng.int(1000) - 500}]`),
  (b) => b.emit(`lea ${b.reg(16)}, [${b.reg(32)} + ${b.rng.int(100000)}]`),
  (b) => {
    b.emit('mov ebx, buf');
    b.emit('xlatb');
  },
  // stack
  (b) => {
    if (b.depth < 12 && b.rng.int(2) === 0) {
      const f = b.rng.int(4);
      b.emit(f === 0 ? `push ${b.reg(32)}` : f === 1 ? `push dword ${b.imm(32)}` : f === 2 ? `push ${b.mem('dword')}` : `push byte ${b.rng.int(256) - 128}`);
      b.depth++;
    } else if (b.depth > 0) {
      b.emit(b.rng.int(2) ? `pop ${b.reg(32)}` : `pop ${b.mem('dword')}`);
      b.depth--;
    }
  },
  // 16-bit pushes and pops, in pairs so the stack stays dword-aligned for the rest
  (b) => {
    b.emit(b.rng.int(2) ? `push ${b.reg(16)}` : b.rng.int(2) ? `push word ${b.imm(16)}` : `push ${b.mem('word')}`);
    b.emit(b.rng.int(2) ? `pop ${b.reg(16)}` : `pop ${b.mem('word')}`);
  },
  // enter/leave, with nesting levels that copy frame pointers from the buffer
  (b) => {
    if (b.depth > 6) return;
    b.emit(`mov ebp, buf + ${128 + 4 * b.rng.int(8)}`);
    b.emit(`enter ${b.rng.pick([0, 4, 8, 12, 0x100])}, ${b.rng.pick([0, 1, 2, 3])}`);
    b.emit(b.rng.pick(['mov eax, [ebp - 4]', 'mov [ebp - 8], ecx', 'not edx']));
    b.emit('leave');
  },
  // calls and returns: direct, through a register or memory, and ret imm16
  (b) => {
    if (b.depth > 8) return;
    const f = b.label(), after = b.label();
    const form = b.rng.int(4);
    const release = form === 3;
    if (release) b.emit(`push dword ${b.rng.u32()}`);
    if (form === 1) {
      b.emit(`mov edi, ${f}`);
      b.emit('call edi');
    } else if (form === 2) {
      b.emit(`mov dword [buf + 72], ${f}`);
      b.emit('call [buf + 72]');
    } else b.emit(`call ${f}`);
    b.emit(`jmp ${after}`);
    b.lines.push(`${f}:`);
    const body = b.rng.int(3);
    if (body === 0) b.emit('mov eax, [esp]');
    else if (body === 1) b.emit('add ecx, 3', 0, ALL);
    else b.emit('xor edx, esi', 0, ALL, F_AF);
    b.emit(release ? 'ret 4' : 'ret');
    b.lines.push(`${after}:`);
  },
  (b) => {
    if (b.depth > 9) return;
    b.emit('pushad');
    b.emit(b.rng.pick(['mov eax, 1', 'not ebx', 'xor ecx, ecx']), 0, 0);
    b.emit('popad');
  },
  (b) => {
    if (b.depth > 10) return;
    b.emit('pushfd', ALL);
    b.emit(`xor dword [esp], ${b.rng.int(2) ? (b.rng.u32() & (ALL | 0x400)) : 0}`, 0, ALL, F_AF);
    b.emit('popfd', 0, ALL);
  },
  // strings, with counts, both directions and rep prefixes
  (b) => {
    const op = b.rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas']);
    const unit = b.rng.pick(['b', 'w', 'd']);
    const n = b.rng.int(9);
    const down = b.rng.int(3) === 0;
    b.emit(down ? 'std' : 'cld');
    b.emit(`mov esi, buf + ${96 + b.rng.int(32)}`);
    b.emit(`mov edi, buf + ${96 + b.rng.int(32)}`);
    b.emit(`mov ecx, ${n}`);
    const prefix = op === 'cmps' || op === 'scas' ? b.rng.pick(['', 'repe ', 'repne ']) : b.rng.pick(['', 'rep ']);
    const flags = op === 'cmps' || op === 'scas';
    // With a count of zero under rep nothing runs and the flags stay as they were.
    b.emit(`${prefix}${op}${unit}`, 0, flags && !(prefix && n === 0) ? ALL : 0);
    b.emit('cld');
  },
];

/** One random case. */
export function generateCase(rng: Rng, id: number, length = 6): Case {
  const b = new Builder(rng, id);
  const count = 1 + rng.int(length);
  for (let k = 0; k < count; k++) rng.pick(GENERATORS)(b);
  while (b.depth > 0) {
    b.emit(`pop ${b.reg(32)}`);
    b.depth--;
  }
  const buf = new Uint8Array(BUF_SIZE);
  for (let i = 0; i < BUF_SIZE; i++) buf[i] = rng.int(4) === 0 ? 0 : rng.int(256);
  return {
    regs: Array.from({ length: 8 }, () => rng.value()),
    flags: rng.u32() & (ALL | 0x400),
    buf,
    lines: b.lines,
    undefinedFlags: b.undef,
  };
}
