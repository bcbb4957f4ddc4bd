// Floating-point constants as nasm writes them: a decimal literal rounded once, to
// nearest, straight into the target format (binary16 ... the x87's 80 bits), with exact
// integer arithmetic. Going through a double first would round twice, and `dt 0.1` would
// lose the bits a double does not have. A value exactly halfway is rounded towards zero,
// as nasm 2.16 rounds it (not to even, as IEEE's default would: `dw 2051.` is 2050).

/** A binary interchange format: sign, exponent, fraction (and, for the x87's, an explicit integer bit). */
export interface FloatFormat {
  bytes: number;
  exponentBits: number;
  /** Fraction bits stored (the integer bit not counted). */
  fractionBits: number;
  /** The integer bit is stored (the 80-bit format). */
  explicitOne: boolean;
}

export const FLOAT_FORMATS = {
  float8: { bytes: 1, exponentBits: 4, fractionBits: 3, explicitOne: false },
  float16: { bytes: 2, exponentBits: 5, fractionBits: 10, explicitOne: false },
  bfloat16: { bytes: 2, exponentBits: 8, fractionBits: 7, explicitOne: false },
  float32: { bytes: 4, exponentBits: 8, fractionBits: 23, explicitOne: false },
  float64: { bytes: 8, exponentBits: 11, fractionBits: 52, explicitOne: false },
  float80: { bytes: 10, exponentBits: 15, fractionBits: 63, explicitOne: true },
  float128: { bytes: 16, exponentBits: 15, fractionBits: 112, explicitOne: false },
} as const satisfies Record<string, FloatFormat>;

/** The format a float in data of `unit` bytes is written in (db 1.5 is nasm's 8-bit float), if any. */
export function floatFormatOfUnit(unit: number): FloatFormat | undefined {
  return Object.values(FLOAT_FORMATS).find((f) => f.bytes === unit && f !== FLOAT_FORMATS.bfloat16);
}

/** nasm's special values, by the names it gives them (`__?Infinity?__`, `__QNaN__`, ...), lower-cased. */
export const FLOAT_SPECIALS: ReadonlyMap<string, 'inf' | 'qnan' | 'snan'> = new Map(
  (['infinity', 'qnan', 'snan'] as const).flatMap((n) => {
    const v = n === 'infinity' ? 'inf' : n;
    return [[`__?${n}?__`, v], [`__${n}__`, v]] as const;
  }),
);

/** A decimal floating-point literal: digits with a point or an exponent (`1.5`, `2e3`, `3.`). */
const DECIMAL_FLOAT = /^([0-9][0-9_]*)(?:\.([0-9_]*))?(?:e([+-]?[0-9]+))?$/i;

export function isFloatText(text: string): boolean {
  return DECIMAL_FLOAT.test(text) && /[.e]/i.test(text);
}

export interface EncodedFloat {
  /** Little-endian, `format.bytes` of them. */
  bytes: Uint8Array;
  /** The value was too large: it is an infinity. */
  overflow: boolean;
}

/**
 * `text` (a decimal literal, or 'inf', 'qnan', 'snan'), negated when `negative`, in
 * `format`; null when the text is no such literal.
 */
export function encodeFloat(text: string, negative: boolean, format: FloatFormat): EncodedFloat | null {
  const { exponentBits, fractionBits, explicitOne } = format;
  const maxExponent = (1n << BigInt(exponentBits)) - 1n;
  const one = explicitOne ? 1n << BigInt(fractionBits) : 0n; // the stored integer bit
  const special = (fraction: bigint) => pack(format, negative, maxExponent, one | fraction);
  if (text === 'inf') return { bytes: special(0n), overflow: false };
  if (text === 'qnan') return { bytes: special(1n << BigInt(fractionBits - 1)), overflow: false };
  if (text === 'snan') return { bytes: special(1n), overflow: false };
  const m = DECIMAL_FLOAT.exec(text);
  if (!m || !/[.e]/i.test(text)) return null;
  const whole = m[1].replace(/_/g, '');
  const part = (m[2] ?? '').replace(/_/g, '');
  const ten = Number(m[3] ?? 0) - part.length;
  // Far beyond every format's range either way: no need to build the power of ten.
  if (Math.abs(ten) > 20000) return ten > 0 && BigInt(whole + part) !== 0n ? infinity(format, negative) : { bytes: pack(format, negative, 0n, 0n), overflow: false };
  let num = BigInt(whole + part);
  let den = 1n;
  if (ten >= 0) num *= 10n ** BigInt(ten);
  else den = 10n ** BigInt(-ten);
  if (num === 0n) return { bytes: pack(format, negative, 0n, 0n), overflow: false };
  const bias = (1n << BigInt(exponentBits - 1)) - 1n;
  // e: the binary exponent of the value (2^e <= num/den < 2^(e+1))
  let e = bitLength(num) - bitLength(den);
  if (e >= 0 ? num < den << BigInt(e) : num << BigInt(-e) < den) e--;
  const precision = fractionBits + 1;
  let biased = BigInt(e) + bias;
  // Below the normal range the fraction has fewer bits: the scale stops at the smallest exponent.
  const scale = biased >= 1n ? precision - 1 - e : Number(bias) - 1 + fractionBits;
  const q = roundedQuotient(scale >= 0 ? num << BigInt(scale) : num, scale >= 0 ? den : den << BigInt(-scale));
  if (biased < 1n) {
    // subnormal: exponent field 0, unless rounding reached the smallest normal
    if (q >> BigInt(fractionBits) === 0n) return { bytes: pack(format, negative, 0n, q), overflow: false };
    biased = 1n;
    return { bytes: pack(format, negative, biased, explicitOne ? q : q - (1n << BigInt(fractionBits))), overflow: false };
  }
  let mantissa = q;
  if (mantissa >> BigInt(precision) !== 0n) {
    // rounding carried out of the mantissa: 1.111.. became 10.000..
    mantissa >>= 1n;
    biased++;
  }
  if (biased >= maxExponent) return infinity(format, negative);
  return { bytes: pack(format, negative, biased, explicitOne ? mantissa : mantissa - (1n << BigInt(fractionBits))), overflow: false };
}

function infinity(format: FloatFormat, negative: boolean): EncodedFloat {
  const maxExponent = (1n << BigInt(format.exponentBits)) - 1n;
  return { bytes: pack(format, negative, maxExponent, format.explicitOne ? 1n << BigInt(format.fractionBits) : 0n), overflow: true };
}

/** The bytes of sign, exponent field and stored fraction (with the integer bit where it is stored). */
function pack(format: FloatFormat, negative: boolean, exponent: bigint, fraction: bigint): Uint8Array {
  const fractionWidth = BigInt(format.fractionBits + (format.explicitOne ? 1 : 0));
  let bits = ((negative ? 1n : 0n) << (BigInt(format.exponentBits) + fractionWidth)) | (exponent << fractionWidth) | fraction;
  const out = new Uint8Array(format.bytes);
  for (let i = 0; i < format.bytes; i++, bits >>= 8n) out[i] = Number(bits & 0xffn);
  return out;
}

/** num/den rounded to the nearest integer, a tie down (nasm's rounding). */
function roundedQuotient(num: bigint, den: bigint): bigint {
  const q = num / den;
  return (num % den) * 2n > den ? q + 1n : q;
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}
