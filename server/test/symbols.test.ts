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

  it('every directive that defines a name defines it: %arg and %local names each, %defstr, %strlen, %ixdefine...', () => {
    const text = [
      'bits 32', '%macro frame 0', '%endmacro', '%ixdefine WIDE 2', '%iassign COUNT 3', "%defstr NAME hello", "%strlen LEN 'abc'", '%stacksize flat',
      '%push f', '%assign %$localsize 0', '%arg first:dword, second:word', '%local tmp:dword', '  mov eax, [first]', '  mov [tmp], eax', '%pop',
    ].join('\n') + '\n';
    const r = assemble({ path: '/m.xasm', text, provider: withBuiltins({ read: () => null }) });
    expect(r.ok).toBe(true);
    const defs = buildIndex(r).definitions;
    expect(defs.get('frame')).toMatchObject({ kind: 'macro' });
    for (const [name, line, column] of [['WIDE', 3, 10], ['COUNT', 4, 9], ['NAME', 5, 8], ['LEN', 6, 8], ['first', 10, 5], ['second', 10, 18], ['tmp', 11, 7]] as const) {
      expect(defs.get(name), name).toMatchObject({ kind: 'define', range: { start: { line, column } } });
    }
    expect(buildIndex(r).occurrences.filter((o) => o.name === 'first').length).toBe(2);
  });
});
