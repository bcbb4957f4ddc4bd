// Effective addresses: turns the expression inside `[...]` into base + index*scale +
// displacement, choosing base and index the way NASM does, and encodes it as
// ModRM (+SIB) (+displacement).

import type { Register } from '../../isa/src/index.js';
import { evaluate, EvalError, low32, NO_SYMBOLS, type Value } from './expr.js';
import { reach, someLeaf, type Expr, type Span } from './syntax.js';

export interface AddressShape {
  base: Register | null;
  index: Register | null;
  scale: 1 | 2 | 4 | 8;
  /** The displacement expression (registers removed), or null for none. */
  disp: Expr | null;
  /** 16 for [bx+si]-style addressing (0x67 prefix in 32-bit code). */
  adsize: 16 | 32;
}

interface Term {
  reg: Register;
  coef: bigint;
  /** Written with an explicit multiplication (`eax*1`): NASM makes it the index. */
  scaled: boolean;
}

/** A displacement term, added or subtracted. */
interface Part {
  expr: Expr;
  neg: boolean;
}

interface Linear {
  terms: Term[];
  disp: Part[];
}

const isRegister = (leaf: Expr) => leaf.kind === 'reg';

function regFree(e: Expr): boolean {
  return !someLeaf(e, isRegister);
}

function scaleExpr(e: Expr, k: bigint): Expr {
  return k === 1n ? e : { kind: 'binary', op: '*', left: e, right: { kind: 'num', value: k, file: e.file, start: e.start, end: e.end }, file: e.file, start: e.start, end: e.end };
}

function linearize(e: Expr): Linear {
  if (regFree(e)) return { terms: [], disp: [{ expr: e, neg: false }] };
  switch (e.kind) {
    case 'reg':
      return { terms: [{ reg: e.reg, coef: 1n, scaled: false }], disp: [] };
    case 'unary':
      if (e.op === '+') return linearize(e.arg);
      if (e.op === '-') return mul(linearize(e.arg), -1n, false);
      break;
    case 'binary': {
      if (e.op === '+' || e.op === '-') {
        const l = linearize(e.left);
        const r = linearize(e.right);
        const rr = e.op === '-' ? mul(r, -1n, false) : r;
        return { terms: [...l.terms, ...rr.terms], disp: [...l.disp, ...rr.disp] };
      }
      if (e.op === '*') {
        const [constSide, regSide] = regFree(e.left) ? [e.left, e.right] : [e.right, e.left];
        if (!regFree(constSide)) break;
        let k: Value;
        try {
          k = evaluate(constSide, NO_SYMBOLS);
        } catch (err) {
          if (err instanceof EvalError) throw new EvalError(constSide, 'a register can only be multiplied by a number');
          throw err;
        }
        return mul(linearize(regSide), k.n, true);
      }
      break;
    }
  }
  throw new EvalError(e, 'invalid effective address');
}

function mul(l: Linear, k: bigint, scaled: boolean): Linear {
  const flip = k < 0n;
  const abs = flip ? -k : k;
  return {
    terms: l.terms.map((t) => ({ reg: t.reg, coef: t.coef * k, scaled: t.scaled || scaled })),
    disp: l.disp.map((d) => ({ expr: scaleExpr(d.expr, abs), neg: d.neg !== flip })),
  };
}

/** The displacement as one expression: added terms first, so `-L0 + L1` is `L1 - L0`. */
function sumOf(parts: Part[]): Expr | null {
  if (parts.length === 0) return null;
  const ordered = [...parts.filter((p) => !p.neg), ...parts.filter((p) => p.neg)];
  const first = ordered[0];
  let acc: Expr = first.neg ? { kind: 'unary', op: '-', arg: first.expr, file: first.expr.file, start: first.expr.start, end: first.expr.end } : first.expr;
  for (const p of ordered.slice(1)) {
    const start = p.expr.file === acc.file ? Math.min(acc.start, p.expr.start) : acc.start;
    acc = { kind: 'binary', op: p.neg ? '-' : '+', left: acc, right: p.expr, file: acc.file, start, end: reach(acc, p.expr) };
  }
  return acc;
}

/**
 * The base/index/scale/displacement of `[addr]`. NASM's choices: registers written
 * with a multiplication are the index; `eax*2`, `*3`, `*5`, `*9` split into base+index
 * unless `nosplit`; ESP can only be a base; otherwise the first register is the base.
 */
export function addressShape(addr: Expr | null, nosplit: boolean, span: Span, dispSize = 0, a16 = false): AddressShape {
  const shape = shapeOf(addr, nosplit, span);
  if ((dispSize !== 16 && !a16) || shape.adsize === 16) return shape;
  // `[word X]` and an a16 prefix ask for 16-bit addressing (0x67), which has no 32-bit registers.
  if (shape.base || shape.index) throw new EvalError(span, a16 ? 'impossible combination of address sizes' : 'invalid 32-bit effective address');
  return { base: null, index: null, scale: 1, disp: shape.disp, adsize: 16 };
}

function shapeOf(addr: Expr | null, nosplit: boolean, span: Span): AddressShape {
  if (!addr) return { base: null, index: null, scale: 1, disp: null, adsize: 32 };
  // The forms nearly every program writes, without the general algorithm's lists:
  // [reg], [constant], [reg + constant], [reg - constant]. Same results as below.
  if (addr.kind === 'reg' && addr.reg.cls === 'r32') return { base: addr.reg, index: null, scale: 1, disp: null, adsize: 32 };
  if (regFree(addr)) return { base: null, index: null, scale: 1, disp: addr, adsize: 32 };
  if (addr.kind === 'binary' && (addr.op === '+' || addr.op === '-') && addr.left.kind === 'reg' && addr.left.reg.cls === 'r32' && regFree(addr.right)) {
    const r = addr.right;
    const disp: Expr = addr.op === '+' ? r : { kind: 'unary', op: '-', arg: r, file: r.file, start: r.start, end: r.end };
    return { base: addr.left.reg, index: null, scale: 1, disp, adsize: 32 };
  }
  const indexed = indexedShape(addr) ?? scaledIndexShape(addr);
  if (indexed) return indexed;
  return generalShape(addr, nosplit, span);
}

/**
 * addressShape() without its shortcuts: linear terms of the registers, merged, then
 * NASM's choice of base and index. Exported so tests hold the shortcuts to it.
 */
export function generalShape(addr: Expr, nosplit: boolean, span: Span): AddressShape {
  const lin = linearize(addr);
  // Merge repeated registers: [eax+eax] is eax*2.
  const merged: Term[] = [];
  for (const t of lin.terms) {
    const m = merged.find((x) => x.reg.name === t.reg.name);
    if (m) {
      m.coef += t.coef;
      m.scaled = true;
    } else merged.push({ ...t });
  }
  const terms = merged.filter((t) => t.coef !== 0n);
  const disp = sumOf(lin.disp);
  const sizes = new Set(terms.map((t) => t.reg.cls));
  for (const t of terms) {
    if (t.reg.cls !== 'r32' && t.reg.cls !== 'r16') throw new EvalError(span, `register '${t.reg.name}' cannot be used in an address`);
    if (t.coef < 0n) throw new EvalError(span, `register '${t.reg.name}' cannot be subtracted in an address`);
  }
  if (sizes.size > 1) throw new EvalError(span, 'cannot mix 16-bit and 32-bit registers in an address');
  const shape = sizes.has('r16') ? shape16(terms, disp, span) : shape32(terms, disp, nosplit, span);
  return shape;
}

/**
 * The other form nearly every program writes, without the general algorithm's lists:
 * `[base + index*scale]`, optionally `+` or `-` a register-free displacement, with two
 * different 32-bit registers, a literal scale of 1, 2, 4 or 8 and an index other than esp.
 * Same results as below; null for anything else.
 */
function indexedShape(addr: Expr): AddressShape | null {
  let sum = addr;
  let disp: Expr | null = null;
  if (addr.kind === 'binary' && (addr.op === '+' || addr.op === '-') && regFree(addr.right)) {
    const r = addr.right;
    disp = addr.op === '+' ? r : { kind: 'unary', op: '-', arg: r, file: r.file, start: r.start, end: r.end };
    sum = addr.left;
  }
  if (sum.kind !== 'binary' || sum.op !== '+' || sum.left.kind !== 'reg') return null;
  const product = sum.right;
  if (product.kind !== 'binary' || product.op !== '*' || product.left.kind !== 'reg' || product.right.kind !== 'num') return null;
  const base = sum.left.reg;
  const index = product.left.reg;
  const k = product.right.value;
  if (base.cls !== 'r32' || index.cls !== 'r32' || base.name === index.name || index.name === 'esp') return null;
  if (k !== 1n && k !== 2n && k !== 4n && k !== 8n) return null;
  return { base, index, scale: Number(k) as 1 | 2 | 4 | 8, disp, adsize: 32 };
}

/**
 * A table lookup, `[index*scale]` with a register-free displacement added before or after
 * (`[table + ecx*4]`): a 32-bit index other than esp and a literal scale of 4 or 8, which
 * NASM neither splits into base+index nor makes a base. Same results as generalShape();
 * null for anything else.
 */
function scaledIndexShape(addr: Expr): AddressShape | null {
  let product = addr;
  let disp: Expr | null = null;
  if (addr.kind === 'binary' && addr.op === '+') {
    if (regFree(addr.left)) [disp, product] = [addr.left, addr.right];
    else if (regFree(addr.right)) [disp, product] = [addr.right, addr.left];
    else return null;
  }
  if (product.kind !== 'binary' || product.op !== '*' || product.left.kind !== 'reg' || product.right.kind !== 'num') return null;
  const index = product.left.reg;
  const k = product.right.value;
  if (index.cls !== 'r32' || index.name === 'esp' || (k !== 4n && k !== 8n)) return null;
  return { base: null, index, scale: Number(k) as 4 | 8, disp, adsize: 32 };
}

function shape32(terms: Term[], disp: Expr | null, nosplit: boolean, span: Span): AddressShape {
  const bad = () => new EvalError(span, 'invalid effective address');
  const isScale = (c: bigint) => c === 1n || c === 2n || c === 4n || c === 8n;
  if (terms.length > 2) throw bad();
  if (terms.length === 0) return { base: null, index: null, scale: 1, disp, adsize: 32 };
  if (terms.length === 1) {
    const [t] = terms;
    if (t.coef === 1n && (!t.scaled || !nosplit)) return { base: t.reg, index: null, scale: 1, disp, adsize: 32 };
    if (!nosplit && (t.coef === 2n || t.coef === 3n || t.coef === 5n || t.coef === 9n)) {
      if (t.reg.name === 'esp') throw bad();
      return { base: t.reg, index: t.reg, scale: Number(t.coef - 1n) as 1 | 2 | 4 | 8, disp, adsize: 32 };
    }
    if (!isScale(t.coef) || t.reg.name === 'esp') throw bad();
    return { base: null, index: t.reg, scale: Number(t.coef) as 1 | 2 | 4 | 8, disp, adsize: 32 };
  }
  let [a, b] = terms;
  // The index is the scaled one; with neither scaled, the second written.
  if (a.coef !== 1n || (a.scaled && !b.scaled && b.coef === 1n)) [a, b] = [b, a];
  if (a.coef !== 1n || !isScale(b.coef)) throw bad();
  if (b.reg.name === 'esp') {
    if (b.coef !== 1n || a.reg.name === 'esp') throw bad();
    [a, b] = [b, a];
  }
  return { base: a.reg, index: b.reg, scale: Number(b.coef) as 1 | 2 | 4 | 8, disp, adsize: 32 };
}

function shape16(terms: Term[], disp: Expr | null, span: Span): AddressShape {
  const names = terms.map((t) => t.reg.name).sort().join('+');
  const valid = ['', 'bx', 'bp', 'si', 'di', 'bx+si', 'bx+di', 'bp+si', 'bp+di'];
  if (terms.some((t) => t.coef !== 1n) || !valid.includes(names)) throw new EvalError(span, 'invalid 16-bit effective address');
  const base = terms.find((t) => t.reg.name === 'bx' || t.reg.name === 'bp')?.reg ?? null;
  const index = terms.find((t) => t.reg.name === 'si' || t.reg.name === 'di')?.reg ?? null;
  return { base, index, scale: 1, disp, adsize: 16 };
}

const RM16: Record<string, number> = { 'bx+si': 0, 'bx+di': 1, 'bp+si': 2, 'bp+di': 3, si: 4, di: 5, bp: 6, bx: 7 };

/** How an address is encoded: ModRM.mod and r/m, an optional SIB byte, displacement width. */
export interface AddressMode {
  mod: number;
  rm: number;
  /** The SIB byte, or -1 for none. */
  sib: number;
  dispBytes: 0 | 1 | 2 | 4;
  /** The displacement as a signed 32-bit number. */
  disp: number;
}

/**
 * Chooses the encoding of an address. `disp` is the displacement value (undefined while
 * still unknown: see below), `forced` a width written
 * inside the brackets (`[byte ebx+0]`).
 */
export function addressMode(shape: AddressShape, disp: Value | undefined, forced: number, out?: AddressMode): AddressMode {
  const dv = disp ? low32(disp) : 0;
  // An unknown displacement (a forward reference) is first taken as 32-bit, as nasm does
  // (unlike branches and short immediates, which start short); later passes shrink it.
  const small = disp !== undefined && disp.sect === null && dv >= -128 && dv <= 127;
  const zero = shape.disp === null || (disp !== undefined && disp.sect === null && dv === 0);
  const { base, index, scale } = shape;
  if (shape.adsize === 16) {
    if (!base && !index) return modeOf(out, 0, 6, -1, 2, dv);
    const rm = RM16[[base?.name, index?.name].filter(Boolean).join('+')];
    const bpOnly = base?.name === 'bp' && !index;
    const mod = forced === 8 ? 1 : forced === 16 || forced === 32 ? 2 : zero && !bpOnly ? 0 : small ? 1 : 2;
    return modeOf(out, mod, rm, -1, mod === 1 ? 1 : mod === 2 ? 2 : 0, dv);
  }
  if (!base && !index) return modeOf(out, 0, 5, -1, 4, dv);
  if (!base) {
    // index only: SIB with no base always carries a 32-bit displacement
    return modeOf(out, 0, 4, (ssOf(scale) << 6) | (index!.num << 3) | 5, 4, dv);
  }
  const mod = forced === 8 ? 1 : forced === 32 || forced === 16 ? 2 : zero && base.name !== 'ebp' ? 0 : small ? 1 : 2;
  const dispBytes = mod === 1 ? 1 : mod === 2 ? 4 : 0;
  if (!index && base.name !== 'esp') return modeOf(out, mod, base.num, -1, dispBytes, dv);
  return modeOf(out, mod, 4, (ssOf(scale) << 6) | ((index ? index.num : 4) << 3) | base.num, dispBytes, dv);
}

/** An address mode in `out` when given (the encoder reuses one), else a new one. */
function modeOf(out: AddressMode | undefined, mod: number, rm: number, sib: number, dispBytes: AddressMode['dispBytes'], disp: number): AddressMode {
  if (!out) return { mod, rm, sib, dispBytes, disp };
  out.mod = mod;
  out.rm = rm;
  out.sib = sib;
  out.dispBytes = dispBytes;
  out.disp = disp;
  return out;
}

function ssOf(scale: 1 | 2 | 4 | 8): number {
  return scale === 1 ? 0 : scale === 2 ? 1 : scale === 4 ? 2 : 3;
}

/** Bytes the address occupies after the opcode (ModRM, SIB, displacement). */
export function addressLength(m: AddressMode): number {
  return 1 + (m.sib >= 0 ? 1 : 0) + m.dispBytes;
}

/** Writes ModRM (with `regField`), SIB and displacement bytes to `out` from `at`; returns where they end. */
export function writeAddress(out: number[], at: number, m: AddressMode, regField: number): number {
  out[at++] = (m.mod << 6) | ((regField & 7) << 3) | m.rm;
  if (m.sib >= 0) out[at++] = m.sib;
  for (let i = 0; i < m.dispBytes; i++) out[at++] = (m.disp >>> (8 * i)) & 0xff;
  return at;
}
