// The navigation index of one assembly: definitions from files the assembler did not
// parse again (an unchanged include) carry the values of the assembly at hand.

import { describe, expect, it } from 'vitest';
import { assemble, withBuiltins } from '../../asm/src/index.js';
import { buildIndex } from '../src/language/symbols.js';

describe('symbol index', () => {
  it('an unchanged include keeps its definitions, with the addresses its labels have now', () => {
    const lib = 'lib_func:\n    ret\n.inner:\n    nop\nLIB_SIZE equ $ - lib_func\n%define LIB_NAME "lib"\n';
    const provider = withBuiltins({ read: (p) => (p === 'lib.inc' ? { path: 'lib.inc', text: lib } : null) });
    const main = (pad: number) => `bits 32\norg 0x1000\n_start:\n    times ${pad} nop\n%include "lib.inc"\n    call lib_func\n`;
    for (const pad of [0, 16, 16, 3]) {
      const r = assemble({ path: '/m.xasm', text: main(pad), provider });
      expect(r.ok).toBe(true);
      const defs = buildIndex(r).definitions;
      const symbol = (name: string) => r.image.symbols.find((s) => s.name === name)!.value >>> 0;
      expect(defs.get('lib_func')).toMatchObject({ kind: 'label', file: 'lib.inc', value: 0x1000 + pad, range: { start: { line: 0, column: 0 } } });
      expect(defs.get('lib_func.inner')).toMatchObject({ kind: 'local', parent: 'lib_func', value: symbol('lib_func.inner') });
      expect(defs.get('LIB_SIZE')).toMatchObject({ kind: 'constant', value: 2 });
      expect(defs.get('LIB_NAME')).toMatchObject({ kind: 'define', file: 'lib.inc' });
      expect(defs.get('LIB_NAME')).not.toHaveProperty('value');
      expect(defs.get('_start')?.value).toBe(0x1000);
    }
  });
});
