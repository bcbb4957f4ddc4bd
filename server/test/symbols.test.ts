// The navigation index of one assembly: definitions from files the assembler did not
// parse again (an unchanged include) carry the values of the assembly at hand.

import { describe, expect, it } from 'vitest';
import { assemble, withBuiltins } from '../../asm/src/index.js';
import { hoverFor } from '../src/language/hover.js';
import { renameProblem } from '../src/language/rename.js';
import { buildIndex, labelAbove } from '../src/language/symbols.js';

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

  it("a struc's fields belong to the struc, not to the label before it; hover gives their offsets (and sizes, for Xen's)", () => {
    const text = ['bits 32', '%include "xen.inc"', 'origin equ 0', 'struc point', '  .x: resd 1', '  .y: resd 1', 'endstruc', 'section .text',
      'start:', '    mov eax, [ebx + point.y]', '    mov ax, [ebx + trap_info.cs]', '    mov ecx, point_size', '.y: ret', ''].join('\n');
    // (after endstruc, a local of the struc's name is a label of the code, not a field: below)
    const r = assemble({ path: '/m.xasm', text, provider: withBuiltins({ read: () => null }) });
    expect(r.ok).toBe(true);
    const index = buildIndex(r);
    const defs = index.definitions;
    expect(defs.get('point')).toMatchObject({ kind: 'constant', value: 0, range: { start: { line: 3, column: 6 } } });
    expect(defs.get('point.y')).toMatchObject({ kind: 'local', parent: 'point', value: 4, range: { start: { line: 5, column: 2 } } });
    expect(defs.get('point_size')).toMatchObject({ kind: 'constant', value: 8 });
    expect(defs.has('origin.x')).toBe(false);
    expect(defs.get('start.y')).toMatchObject({ kind: 'local', parent: 'start' });
    const uses = (name: string) => index.occurrences.filter((o) => o.name === name).map((o) => [o.range.start.line, o.range.start.column]);
    expect([uses('point.y'), uses('point_size'), uses('start.y')]).toEqual([[[5, 2], [9, 20]], [[11, 13]], [[12, 0]]]);
    expect(hoverFor('point.y', index)).toBe('**point.y** — field of struct point at offset 4 (m.xasm:6)');
    expect(hoverFor('trap_info.cs', index)).toMatch(/^\*\*trap_info\.cs\*\* — field of struct trap_info at offset 2, 2 bytes \(`uint16_t`\) \(built-in xen\.inc:\d+\)\n\nCode selector/);
    expect(hoverFor('start_info.console.domU.mfn', index)).toMatch(/field of struct start_info at offset \d+, 4 bytes/);
    const after = buildIndex(assemble({ path: '/a.xasm', text: 'bits 32\nstruc point\n  .x: resb 1\nendstruc\n.after: ret\n' }));
    expect(hoverFor('point.after', after)).toMatch(/^\*\*point\.after\*\* — label at/);
    expect(hoverFor('point.x', after)).toMatch(/field of struct point at offset 0/);
  });

  it('names a macro defines are where its call writes them (or the call), and locals after that call are theirs', () => {
    const text = ['bits 32', 'section .text', 'first:', '.loop: ret', '%macro FUNC 1', '%1:', '%endmacro', '%macro ENTRY 1', '%1_entry:', '%endmacro',
      '    FUNC my_func', '.loop: dec ecx', '    jnz .loop', '  ENTRY foo', '.x: jmp .x', '    call my_func', '    call foo_entry', '    jmp first.loop', ''].join('\n');
    const r = assemble({ path: '/m.xasm', text });
    expect(r.ok).toBe(true);
    const index = buildIndex(r);
    const defs = index.definitions;
    const symbol = (name: string) => r.image.symbols.find((s) => s.name === name)!.value >>> 0;
    expect(defs.get('my_func')).toMatchObject({ kind: 'label', value: symbol('my_func'), range: { start: { line: 10, column: 9 }, end: { line: 10, column: 16 } } });
    expect(defs.get('my_func')?.made).toBeUndefined();
    expect(defs.get('foo_entry')).toMatchObject({ kind: 'label', made: true, range: { start: { line: 13, column: 2 }, end: { line: 13, column: 11 } } });
    expect(defs.get('my_func.loop')).toMatchObject({ kind: 'local', parent: 'my_func', range: { start: { line: 11 } } });
    expect(defs.get('foo_entry.x')).toMatchObject({ kind: 'local', parent: 'foo_entry' });
    const uses = (name: string) => index.occurrences.filter((o) => o.name === name).map((o) => o.range.start.line);
    expect([uses('first.loop'), uses('my_func.loop'), uses('foo_entry.x'), uses('my_func'), uses('foo_entry')]).toEqual([[3, 17], [11, 12], [14, 14], [10, 15], [16]]);
    expect(renameProblem([index], defs.get('foo_entry')!, 'bar')).toMatch(/made by a macro/);
    expect(renameProblem([index], defs.get('my_func')!, 'bar')).toBeNull();
  });

  it('the label a .name belongs to, read from text newer than the index', () => {
    const text = ['start:', '.l: nop', 'func_b:  ; the second', '    mov eax, 1', '    jmp .', 'struc point', '  .x: resd 1', 'endstruc', ''].join('\n');
    expect([labelAbove(text, 0), labelAbove(text, 1), labelAbove(text, 4), labelAbove(text, 6)]).toEqual(['start', 'start', 'func_b', 'point']);
    expect(labelAbove('    mov eax, 1\n.x: ret\n', 1)).toBeUndefined();
  });
});
