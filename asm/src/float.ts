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
/** Hex, binary or octal (0x, 0h; 0b, 0y; 0o, 0q), with a point or a power of two: `0x1.8p1`, `0b1.1`, `0x1p-3`. */
const RADIX_FLOAT = /^0([xhbyoq])([0-9a-f_]*)(?:\.([0-9a-f_]*))?(?:p([+-]?[0-9]+))?$/i;
const RADIX_BITS: Readonly<Record<string, number>> = { x: 4, h: 4, b: 1, y: 1, o: 3, q: 3 };

/** Whether a number token's text is a floating-point constant (as data can hold). */
export function isFloatText(text: string): boolean {
  // (a point, an exponent or a power of two: most numbers have none, and need no closer look)
  return /[.ep]/i.test(text) && rational(text) !== null;
}

/** A float literal's exact value as num / 2^twos / 10^tens (its digits taken in their radix); null when it is none. */
function rational(text: string): { num: bigint; twos: number; tens: number } | null {
  const d = DECIMAL_FLOAT.exec(text);
  if (d && /[.e]/i.test(text)) {
    const part = (d[2] ?? '').replace(/_/g, '');
    return { num: BigInt(d[1].replace(/_/g, '') + part), twos: 0, tens: Number(d[3] ?? 0) - part.length };
  }
  const r = RADIX_FLOAT.exec(text);
  if (!r || !/[.p]/i.test(text)) return null;
  const bits = RADIX_BITS[r[1].toLowerCase()];
  const whole = r[2].replace(/_/g, '');
  const part = (r[3] ?? '').replace(/_/g, '');
  const digits = whole + part;
  const valid = bits === 4 ? /^[0-9a-f]*$/i : bits === 3 ? /^[0-7]*$/ : /^[01]*$/;
  if (digits === '' || !valid.test(digits)) return null;
  let num = 0n;
  for (const c of digits) num = (num << BigInt(bits)) | BigInt(parseInt(c, 16));
  return { num, twos: Number(r[4] ?? 0) - part.length * bits, tens: 0 };
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
  const value = rational(text);
  if (!value) return null;
  const { twos, tens } = value;
  let num = value.num;
  if (num === 0n) return { bytes: pack(format, negative, 0n, 0n), overflow: false };
  // Far beyond every format's range either way: no need to build the power.
  if (Math.abs(tens) > 20000 || Math.abs(twos) > 70000) return tens > 0 || twos > 0 ? infinity(format, negative) : { bytes: pack(format, negative, 0n, 0n), overflow: false };
  let den = 1n;
  if (tens >= 0) num *= 10n ** BigInt(tens);
  else den = 10n ** BigInt(-tens);
  if (twos >= 0) num <<= BigInt(twos);
  else den <<= BigInt(-twos);
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
