// Renaming: names that would change what the program means are refused with the reason;
// the edits reach every place the name is written, in each place's own form.

import { describe, expect, it } from 'vitest';
import { assemble, withBuiltins } from '../../asm/src/index.js';
import { renameEdits, renameProblem } from '../src/language/rename.js';
import { buildIndex, offsetAt } from '../src/language/symbols.js';

const provider = withBuiltins({ read: () => null });
const text = [
  'bits 32', '%include "xen.inc"', 'section .text', 'start:', '    mov ecx, 3', '.loop:', '    dec ecx', '    jnz .loop', '    call helper',
  '    mov eax, $helper', '    jmp start', 'helper:', '    mov eax, LIMIT', '.loop:', '    ret', 'other:', '    call helper.loop', 'LIMIT equ 5', '',
].join('\n');
const index = buildIndex(assemble({ path: '/r.xasm', text, provider }));
const def = (name: string) => index.definitions.get(name)!;
const problem = (name: string, to: string) => renameProblem([index], def(name), to);

/** The text with the edits of renaming `name` to `to` applied (from the end, so offsets hold). */
function renamed(name: string, to: string): string {
  const f = index.files.get('/r.xasm')!;
  let out = text;
  const edits = renameEdits([index], def(name), to).map((e) => [offsetAt(f, e.range.start), offsetAt(f, e.range.end), e.newText] as const).sort((a, b) => b[0] - a[0]);
  for (const [from, end, t] of edits) out = out.slice(0, from) + t + out.slice(end);
  return out;
}

describe('rename', () => {
  it('refuses a name that is taken, a word of the assembler, a name xen.inc has, or a local form for a label that is not local', () => {
    expect(problem('helper', 'start')).toBe("'start' is already defined (r.xasm:4)");
    expect(problem('helper', 'LIMIT')).toBe("'LIMIT' is already defined (r.xasm:18)");
    expect(problem('LIMIT', 'helper')).toBe("'helper' is already defined (r.xasm:12)");
    expect(problem('helper', 'SCHEDOP_shutdown')).toBe("'SCHEDOP_shutdown' is already defined (by xen.inc)");
    for (const word of ['eax', 'dword', 'mov', 'section', 'rep', 'nosplit', 'wrt']) expect(problem('helper', word), word).toMatch(/is a word of the assembler/);
    expect(problem('helper', '.foo')).toMatch(/not a local label/);
    expect(problem('helper', '1abc')).toBe("'1abc' is not a valid name");
    expect(problem('start.loop', '.loop2')).toBeNull();
    expect(problem('helper.loop', 'start')).toBeNull(); // the local becomes helper.start: no clash
    expect(problem('start.loop', '.loop')).toBeNull(); // its own name
  });

  it('renames every place: $name keeps its $, a label\'s locals written in full follow it, a local keeps its form', () => {
    const goal = renamed('helper', 'goal');
    expect(goal).toContain('    call goal\n    mov eax, $goal\n');
    expect(goal).toContain('goal:\n    mov eax, LIMIT\n.loop:');
    expect(goal).toContain('    call goal.loop\n');
    expect(assemble({ path: '/r.xasm', text: goal, provider }).ok).toBe(true);
    const local = renamed('helper.loop', '.back');
    expect(local).toContain('.back:\n    ret\nother:\n    call helper.back\n');
    expect(local).toContain('.loop:\n    dec ecx\n    jnz .loop\n'); // start's .loop is another label
    expect(assemble({ path: '/r.xasm', text: local, provider }).ok).toBe(true);
  });
});
