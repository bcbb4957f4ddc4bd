// addressShape() answers the forms nearly every program writes without its general
// algorithm: random addresses must get the same base, index, scale and displacement (or
// the same error) from the shortcuts as from generalShape().

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressShape, generalShape, type AddressShape } from '../src/address.js';
import { lex } from '../src/lexer.js';
import { parseStreamLine } from '../src/parser.js';
import type { Expr, MemoryOperand } from '../src/syntax.js';

function memoryOperand(address: string): MemoryOperand {
  const line = parseStreamLine(lex(`lea eax, [${address}]`), 0);
  expect(line.errors).toEqual([]);
  const statement = line.statement;
  if (statement?.kind !== 'instruction' || statement.operands[1].kind !== 'mem') throw new Error(`not a memory operand: ${address}`);
  return statement.operands[1];
}

/** An expression's structure and spans, as text. */
function show(e: Expr): string {
  const at = `@${e.start}-${e.end}`;
  switch (e.kind) {
    case 'num': return `${e.value}${at}`;
    case 'sym': return `${e.name}${at}`;
    case 'unary': return `(${e.op}${show(e.arg)})${at}`;
    case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})${at}`;
    default: return `${e.kind}${at}`;
  }
}

/** A shape, or the error it gave, as plain data. */
function outcome(shape: () => AddressShape): unknown {
  try {
    const s = shape();
    return { base: s.base?.name ?? null, index: s.index?.name ?? null, scale: s.scale, adsize: s.adsize, disp: s.disp && show(s.disp) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const register = fc.constantFrom('eax', 'ebx', 'ecx', 'esp', 'ebp', 'esi', 'bx', 'si', 'al');
const constant = fc.constantFrom('0', '8', '0x10', '-4', 'table', 'table + 4', '(3 - 1)');
const scale = fc.constantFrom('1', '2', '3', '4', '5', '8', '9', '16', '-1');
const term: fc.Arbitrary<string> = fc.oneof(
  register,
  constant,
  fc.tuple(register, scale).map(([r, k]) => `${r}*${k}`),
  fc.tuple(scale, register).map(([k, r]) => `${k}*${r}`),
);
const address = fc.tuple(term, fc.array(fc.tuple(fc.constantFrom('+', '-'), term), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([op, t]) => ` ${op} ${t}`).join(''));

describe('addressShape', () => {
  it('gives what the general algorithm gives, on random addresses', () => {
    fc.assert(fc.property(address, fc.boolean(), (text, nosplit) => {
      const mem = memoryOperand(text);
      expect(outcome(() => addressShape(mem.addr, nosplit, mem))).toEqual(outcome(() => generalShape(mem.addr!, nosplit, mem)));
    }), { numRuns: 3000 });
  });

  it('makes a table lookup an index with no base', () => {
    for (const text of ['table + ecx*4', 'ecx*8 + table', 'ecx*4']) {
      const mem = memoryOperand(text);
      const shape = addressShape(mem.addr, false, mem);
      expect([shape.base, shape.index?.name, shape.scale]).toEqual([null, 'ecx', Number(text.match(/\*(\d)/)![1])]);
    }
  });
});
