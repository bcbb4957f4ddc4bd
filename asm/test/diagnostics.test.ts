// Every bad input gets a clear error at the right place, and one error does not stop
// the rest of the file from being assembled.

import { describe, expect, it } from 'vitest';
import { assemble, type AssembleResult } from '../src/assembler.js';
import { PREPROCESSOR_DIRECTIVES, PREPROCESSOR_FUNCTIONS } from '../src/preprocessor.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import type { SourceProvider } from '../src/source.js';

function asm(text: string, files: Record<string, string> = {}): AssembleResult {
  const provider: SourceProvider = { read: (p) => (p in files ? { path: p, text: files[p] } : null) };
  return assemble({ path: 'main.asm', text, provider });
}

/** `file:line:col: severity: message` of every diagnostic. */
function messages(r: AssembleResult): string[] {
  return r.diagnostics.map((d) => formatDiagnostic(d, r.files).split('\n')[0]);
}

describe('located errors', () => {
  it('unknown instruction, at the mnemonic', () => {
    const r = asm('bits 32\n  nop\n  frobnicate eax\n');
    expect(r.ok).toBe(false);
    expect(messages(r)).toEqual(["main.asm:3:3: error: unknown instruction 'frobnicate'"]);
  });

  it('undefined symbol, at the symbol', () => {
    const r = asm('mov eax, [ebx + missing]\n');
    expect(messages(r)).toEqual(["main.asm:1:17: error: symbol 'missing' is not defined"]);
  });

  it('a problem in the text a %define put in a line: at the line that uses it, the define\'s text as related information', () => {
    const r = asm('bits 32\n%define LOW16(x) ((x) & 0xFFFF)\n%define COUNT missing + 1\nbuf: dd 0\n    mov eax, LOW16(0x12345)\n    dd LOW16(buf)\n    mov ecx, COUNT\n', {});
    expect(messages(r)).toEqual([
      "main.asm:6:5: error: '&' operator may only be applied to scalar values, not to an address (in the expansion of a %define)",
      "main.asm:7:5: error: symbol 'missing' is not defined (in the expansion of a %define)",
    ]);
    expect(r.diagnostics.map((d) => d.related.map((x) => formatDiagnostic({ ...d, span: x.span, related: [] }, r.files).split(':').slice(1, 3).join(':')))).toEqual([['2:18'], ['3:15']]);
  });

  it('%use: an unknown package is an error (as in nasm), a nasm package xenolab lacks a warning saying what differs', () => {
    const r = asm('bits 32\n%use smartalign\n%use "altreg"\n%use nopackage\nnop\n');
    expect(messages(r)).toEqual([
      "main.asm:2:1: warning: %use smartalign: xenolab does not provide nasm's smartalign package (align pads code with one-byte NOPs here)",
      "main.asm:3:1: warning: %use altreg: xenolab does not provide nasm's altreg package (the r0-r15 register names are not defined)",
      "main.asm:4:1: error: unknown %use package 'nopackage'",
    ]);
  });

  it('an instruction nasm knows and the table lacks is named as such, not taken for a label', () => {
    const r = asm('bits 32\nsalc\ncdqe\n');
    expect(messages(r)).toEqual([
      "main.asm:2:1: error: 'salc' is an IA-32 instruction xenolab does not implement (not in the table)",
      "main.asm:3:1: error: 'cdqe' is an x86-64 instruction: it does not exist in 32-bit code",
    ]);
  });

  it('%stacksize, %arg and %local: what they expect, at the item', () => {
    const r = asm('bits 32\n%arg b\n%arg c:huge\n%local x:dword\n%stacksize tiny\n');
    expect(messages(r)).toEqual([
      'main.asm:2:6: error: %arg expects name:size items (size byte, word, dword, qword or tword)',
      'main.asm:3:6: error: %arg expects name:size items (size byte, word, dword, qword or tword)',
      'main.asm:4:1: error: %local adds to %$localsize, a name of the current context: %push one first',
      'main.asm:5:12: error: %stacksize expects flat, flat64, large or small',
    ]);
  });

  it('absurd nesting is a located error, not a stack overflow or minutes of work', () => {
    const cases: [string, string][] = [
      [`dd ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`, 'main.asm:1:1005: error: expression nested more than 1000 deep'],
      [`dd ${'-'.repeat(100_000)}1\n`, 'main.asm:1:1005: error: expression nested more than 1000 deep'],
      [`dd ${'1+'.repeat(100_000)}1\n`, 'main.asm:1:2006: error: expression nested more than 1000 deep'],
      [`${'times 1 '.repeat(5000)}nop\n`, 'main.asm:1:8009: error: times prefixes nested more than 1000 deep'],
      ['%rep 1\n'.repeat(300) + 'nop\n' + '%endrep\n'.repeat(300), 'main.asm:256:1: error: %rep nested more than 256 deep: preprocessing stopped here'],
    ];
    for (const [text, message] of cases) expect(messages(asm(text))[0]).toBe(message);
    // and within the limits, deep is fine
    const r = asm(`dd ${'('.repeat(300)}1${')'.repeat(300)} + ${'1+'.repeat(300)}1\n`);
    expect(r.ok).toBe(true);
  });

  it('preprocessor functions: what they expect, at the call', () => {
    expect(messages(asm('db %num(1, 2, 99)\ndb 1 %sel(5, 1)\ndb %strlen(5)\ndb %tok(1)\n'))).toEqual([
      'main.asm:1:4: error: %num expects a base from 2 to 36',
      'main.asm:2:6: warning: %sel(5) is not one of the 1 choices',
      'main.asm:3:4: error: %strlen expects a string',
      'main.asm:4:4: error: %tok expects a string',
      'main.asm:1:1: warning: no operand for data declaration: nothing is emitted',
      'main.asm:3:1: warning: no operand for data declaration: nothing is emitted',
      'main.asm:4:1: warning: no operand for data declaration: nothing is emitted',
    ]);
  });

  it('every preprocessor directive and function the editor offers is one the preprocessor knows', () => {
    // each on its own (a %macro line would take the ones after it as its body)
    const unknown = PREPROCESSOR_DIRECTIVES.filter(([d]) => messages(asm(`${d} x\n`)).some((m) => m.includes('unknown preprocessor directive')));
    expect(unknown).toEqual([]);
    expect(messages(asm('%nosuchdirective x\n'))).toEqual(["main.asm:1:1: error: unknown preprocessor directive '%nosuchdirective'"]);
    for (const [f] of PREPROCESSOR_FUNCTIONS) expect(asm(`db 1 ${f}(1)\n`).diagnostics.filter((d) => d.message.includes(`unexpected '${f}'`))).toEqual([]);
  });

  it('a size prefix that contradicts the operand size is a warning; a32 on a 16-bit address an error', () => {
    expect(messages(asm('bits 32\no32 cwd\no16 movsd\no16 cbw\na32 mov eax, [bx+si]\n'))).toEqual([
      'main.asm:2:1: warning: o32 on a 16-bit instruction: its 0x66 is left out, so it runs with 32-bit operands (as nasm does)',
      'main.asm:3:1: warning: o16 on a 32-bit instruction: the 0x66 makes it run with 16-bit operands (as nasm does)',
      'main.asm:5:1: error: a32 with a 16-bit address: impossible combination of address sizes',
    ]);
  });

  it('lists at most 1000 problems of each stage, and says how many more there were', () => {
    const r = asm('bits 32\n%rep 1500\n%warning w\nmov eax, nowhere\n%endrep\n');
    const [pre, asmOnes] = [r.diagnostics.filter((d) => d.code === 'user-warning'), r.diagnostics.filter((d) => d.code === 'undefined-symbol')];
    expect([pre.length, asmOnes.length]).toEqual([1000, 1000]);
    expect(r.diagnostics.filter((d) => d.code === 'too-many-problems').map((d) => `${d.severity}: ${d.message}`)).toEqual([
      'warning: 500 more problems are not listed (only the first 1000 are)', 'error: 500 more problems are not listed (only the first 1000 are)',
    ]);
  });

  it("a label beginning with '..' (other than '..@') is nasm's special symbol, an error", () => {
    expect(messages(asm('bits 32\n..start: nop\n..@mine: nop\n'))).toEqual([
      "main.asm:2:1: error: unrecognised special symbol '..start': nasm keeps names beginning with '..' for its own ('..@' begins a label of yours)",
    ]);
  });

  it('a size or distance that does not fit a register, and far without a pointer, are errors (nasm ignores the first with a warning)', () => {
    expect(messages(asm('bits 32\npush word eax\nmov dword al, 5\njmp near eax\njmp far ebx\ncall far 5\n'))).toEqual([
      "main.asm:2:11: error: eax is a 32-bit register: 'word' does not fit it",
      "main.asm:3:11: error: al is an 8-bit register: 'dword' does not fit it",
      "main.asm:4:10: error: 'near' needs a branch target, not a register",
      "main.asm:5:9: error: 'far' needs a memory operand or a selector:offset pointer, not a register",
      "main.asm:6:10: error: 'far' needs a memory operand or a selector:offset pointer (a flat binary has no segment relocations)",
    ]);
  });

  it('division by zero in an instruction operand is an error (its bytes were kept from the first pass, unreported)', () => {
    expect(messages(asm('bits 32\nmov eax, 1/0\nadd eax, 5 % 0\npush 7 // 0\nmov eax, [ebx + 1/0]\n'))).toEqual([
      'main.asm:2:10: error: division by zero', 'main.asm:3:10: error: division by zero', 'main.asm:4:6: error: division by zero', 'main.asm:5:17: error: division by zero',
    ]);
  });

  it('both arms of ?: are evaluated, as nasm does: an error in the one not taken is still one', () => {
    expect(messages(asm('bits 32\ndd 1 ? 2 : 1/0\ndd 0 ? nosym : 3\n'))).toEqual([
      'main.asm:2:12: error: division by zero', "main.asm:3:8: error: symbol 'nosym' is not defined",
    ]);
  });

  it('duplicate label', () => {
    const r = asm('a: nop\na: nop\n');
    expect(messages(r)).toEqual(["main.asm:2:1: error: symbol 'a' is already defined"]);
  });

  it('operation size not specified', () => {
    const r = asm('inc [eax]\n');
    expect(r.diagnostics[0].code).toBe('operand-size');
    expect(messages(r)[0]).toMatch(/^main\.asm:1:5: error: operation size not specified/);
  });

  it('invalid operand combination names the valid forms', () => {
    const r = asm('mov cr0, 5\n');
    expect(r.diagnostics[0].code).toBe('invalid-operands');
    expect(r.diagnostics[0].message).toContain('creg,r32');
  });

  it('short jump out of range', () => {
    const r = asm('jmp short far_label\ntimes 200 nop\nfar_label:\n');
    expect(messages(r)).toEqual(['main.asm:1:1: error: short jump is out of range']);
  });

  it('loop out of range has no long form', () => {
    const r = asm('top: times 300 nop\nloop top\n');
    expect(r.ok).toBe(false);
    expect(messages(r)[0]).toMatch(/^main\.asm:2:1: error: /);
  });

  it('the bracketed form of a directive takes the same arguments as the plain one', () => {
    // `[org]` once reached the assembler without its expression and crashed it (found by the fuzz test).
    expect(messages(asm('[org]\nnop\n'))).toEqual(['main.asm:1:5: error: expected an expression']);
    expect(messages(asm('[org 5\n'))).toEqual(["main.asm:1:2: error: expected ']'"]);
    const r = asm('[org 0x100]\nx: jmp x\n');
    expect(r.ok).toBe(true);
    expect(r.image.symbols.find((s) => s.name === 'x')?.value).toBe(0x100);
  });

  it('a span stays inside its file when a line mixes tokens from several files', () => {
    // The call's last token comes from a define in another, longer file: the call span
    // once took that token's end offset (found by the fuzz test).
    const defs = `${';'.repeat(500)}\n%define ARGS 1, 2\n`;
    const r = asm('%include "defs.inc"\n%macro M 2\n  frob %1, %2\n%endmacro\nM ARGS\n', { 'defs.inc': defs });
    const main = r.files[0].text;
    expect(r.ok).toBe(false);
    for (const d of r.diagnostics) {
      for (const span of [d.span, ...d.related.map((x) => x.span)]) expect(span.end).toBeLessThanOrEqual(r.files[span.file].text.length);
    }
    expect(messages(r)[0]).toMatch(/^main\.asm:5:1: error: unknown instruction 'frob'/);
    // At the call, which ends where its last token from this file does.
    expect(r.diagnostics[0].span).toEqual({ file: 0, start: main.indexOf('M ARGS'), end: main.indexOf('M ARGS') + 1 });
  });

  it('times repeats instructions and data only, and a failing repetition is reported once', () => {
    // `times "str" istruc` once ran a directive 7.5 million times per pass (found by the fuzz test).
    expect(messages(asm('times 3 istruc\n'))).toEqual(["main.asm:1:9: error: 'times' must be followed by an instruction or data"]);
    expect(messages(asm('times 5\n'))).toEqual(["main.asm:1:8: error: 'times' must be followed by an instruction or data"]);
    expect(messages(asm('times "str" frob $\n'))).toEqual(["main.asm:1:13: error: unknown instruction 'frob'"]);
  });

  it('syntax errors at the offending token, and recovery on the next line', () => {
    const r = asm('mov eax, (1 + \nmov ebx, 2\nlabel: ret\n');
    expect(messages(r)).toEqual(["main.asm:1:14: error: expected an expression"]);
    const sym = r.image.symbols.find((s) => s.name === 'label');
    expect(sym?.value).toBe(5); // mov ebx, 2 was still assembled (5 bytes)
    expect(Array.from(r.image.sections[0].bytes)).toEqual([0xbb, 2, 0, 0, 0, 0xc3]);
  });

  it('error inside a macro body: reported at the call, with the body line related', () => {
    const r = asm('%macro bad 1\n  mov %1, [nowhere]\n%endmacro\nstart:\n  bad eax\n');
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0];
    expect(formatDiagnostic(d, r.files).split('\n')).toEqual([
      "main.asm:5:3: error: symbol 'nowhere' is not defined (in macro 'bad')",
      "main.asm:2:12: note: symbol 'nowhere' is not defined",
    ]);
  });

  it('error in an included file: reported at the %include, with the file line related', () => {
    const r = asm('nop\n%include "lib.inc"\n', { 'lib.inc': 'ret\nbogus_op eax\n' });
    const lines = formatDiagnostic(r.diagnostics[0], r.files).split('\n');
    expect(lines[0]).toBe("main.asm:2:10: error: unknown instruction 'bogus_op'");
    expect(lines[1]).toBe("lib.inc:2:1: note: unknown instruction 'bogus_op'");
  });

  it('missing include file', () => {
    const r = asm('%include "nope.inc"\n');
    expect(messages(r)).toEqual(["main.asm:1:10: error: unable to open include file 'nope.inc'"]);
  });

  it('macro with the wrong number of parameters', () => {
    const r = asm('%macro two 2\n  db %1, %2\n%endmacro\n  two 1\n');
    expect(messages(r)).toEqual(["main.asm:4:3: error: macro 'two' expects 2 parameter(s), got 1"]);
  });

  it('unterminated %if and stray %endif', () => {
    expect(messages(asm('%if 1\nnop\n'))).toEqual(['main.asm:1:1: error: unterminated %if: missing %endif']);
    expect(messages(asm('%endif\n'))).toEqual(['main.asm:1:1: error: %endif without %if']);
  });

  it('%error reports its text', () => {
    expect(messages(asm('%error "stop here"\n'))).toEqual(['main.asm:1:1: error: "stop here"']);
  });

  it('recursive include and runaway macro recursion end with an error, not a hang', () => {
    const inc = asm('%include "self.inc"\n', { 'self.inc': '%include "self.inc"\n' });
    expect(inc.diagnostics.some((d) => d.code === 'include')).toBe(true);
    const rec = asm('%rmacro again 0\n again\n%endmacro\n again\n');
    expect(rec.diagnostics.some((d) => d.code === 'macro-depth')).toBe(true);
    // A plain %macro is not expanded within itself: `again` is a label there, as in nasm.
    const plain = asm('%macro again 0\n again\n%endmacro\n again\n');
    expect(plain.diagnostics.map((d) => d.code)).toEqual(['orphan-label']);
    // Twice per level: 2^256 expansions unless the depth limit stops the whole run.
    const twice = asm('%rmacro again 0\n again\n again\n%endmacro\n again\n');
    expect(twice.diagnostics.filter((d) => d.code === 'macro-depth')).toHaveLength(1);
  });

  it('an IA-32 instruction the table lacks is an error, not a label (nasm knows it)', () => {
    expect(messages(asm('    daa\n    aad 10\n    sysenter\n    fld dword [eax]\nmy_label\n    fld1\n    fucompp\n'))).toEqual([
      "main.asm:1:5: error: 'daa' is an IA-32 instruction xenolab does not implement (BCD arithmetic)",
      "main.asm:2:5: error: 'aad' is an IA-32 instruction xenolab does not implement (BCD arithmetic)",
      "main.asm:3:5: error: 'sysenter' is an IA-32 instruction xenolab does not implement (a fast system call; a PV guest enters Xen with int 0x82, and its kernel through the int 0x80 gate of its trap table)",
      "main.asm:4:5: error: 'fld' is an IA-32 instruction xenolab does not implement (x87 floating point)",
      "main.asm:5:1: warning: label 'my_label' alone on a line without a colon",
      "main.asm:6:5: error: 'fld1' is an IA-32 instruction xenolab does not implement (x87 floating point)",
      "main.asm:7:5: error: 'fucompp' is an IA-32 instruction xenolab does not implement (x87 floating point)",
    ]);
  });

  it('? data is space: reserved without a word in a nobits section, zeroed with a warning in a progbits one (as nasm)', () => {
    expect(messages(asm('section .bss\nw: dw ?, ?\nd: dd ?\nsection .data\nb: db ?\nc: db 1, ?\n'))).toEqual([
      "main.asm:5:4: warning: uninitialized space declared in progbits section '.data': zeroing",
      "main.asm:6:4: warning: uninitialized space declared in progbits section '.data': zeroing",
    ]);
  });

  it('resb in a progbits section warns that it is zeroed, as nasm does; resb 0 reserves nothing and says nothing', () => {
    expect(messages(asm('bits 32\nresb 4\nresb 0\ndb 1\n'))).toEqual(["main.asm:2:1: warning: uninitialized space declared in progbits section '.text': zeroing"]);
  });

  it('context stack misuse is located', () => {
    expect(messages(asm('%pop\n%repl x\ndd %$a\n%push one\n%push two\ndd %$$$b\n%pop one\n'))).toEqual([
      'main.asm:1:1: error: %pop: the context stack is empty (no %push)',
      'main.asm:2:1: error: %repl: the context stack is empty (no %push)',
      "main.asm:3:4: error: '%$a': the context stack is empty (no %push)",
      "main.asm:6:4: error: '%$$$b': only 2 context(s) on the stack",
      "main.asm:7:1: error: %pop one: the innermost context is 'two'",
      "main.asm:3:4: error: symbol '%$a' is not defined",
      "main.asm:6:4: error: symbol '%$$$b' is not defined",
    ]);
    expect(messages(asm('%macro j 1\n  j%-1 $\n%endmacro\n  j eax\n'))[0]).toMatch(/^main\.asm:4:3: error: '%-1' needs a condition code/);
    expect(messages(asm('%macro j 1\n  j%+1 $\n%endmacro\n  j 5\n'))[0]).toMatch(/^main\.asm:4:3: error: '%\+1' needs a condition code/);
  });

  it('a label without a colon before a macro call is no label alone on its line (nasm gives no warning)', () => {
    const r = asm('%macro mm 1\n  db %1\n%endmacro\nlbl mm 4\n  dd lbl\n');
    expect(messages(r)).toEqual([]);
    expect(r.image.symbols.find((s) => s.name === 'lbl')?.value).toBe(0);
  });

  it('floating-point constants are data, alone; out of range they warn', () => {
    expect(messages(asm('db 1.5\ndt 1.5\nmov eax, 1.5\ndd 1.5 + 1\ndw 70000.0\ndd 1e39\n'))).toEqual([
      "main.asm:3:10: error: a floating-point constant ('1.5') can only be data (db, dw, dd, dq, dt), alone",
      "main.asm:4:4: error: a floating-point constant ('1.5') can only be data (db, dw, dd, dq, dt), alone",
      'main.asm:5:4: warning: overflow in floating-point constant',
      'main.asm:6:4: warning: overflow in floating-point constant',
    ]);
  });

  it('an undefined symbol in a short branch or a byte immediate costs no further pass (the editor assembles on every keystroke)', () => {
    for (const text of ['f:\n.l:\n  jnz .lx\n  ret\n', '  push nowhere\n  ret\n', '  shl eax, nowhere\n']) {
      const r = asm(text);
      expect(r.diagnostics.map((d) => d.code)).toEqual(['undefined-symbol']);
      expect(r.passes).toBe(2);
    }
  });

  it('extern and %depend are accepted as nasm accepts them in a flat binary; an extern used is undefined', () => {
    expect(messages(asm('%depend "x.inc"\nextern foo, bar\nnop\n'))).toEqual([]);
    expect(messages(asm('extern foo\ncall foo\n'))).toEqual(["main.asm:2:6: error: symbol 'foo' is not defined"]);
  });

  it("an unterminated %[ is a located error", () => {
    expect(messages(asm('%define A 1\n  db %[A\n'))).toEqual(["main.asm:2:6: error: unterminated '%[': missing ']'"]);
  });

  it('%exitmacro and %exitrep outside a macro or %rep are located errors', () => {
    expect(messages(asm('%exitmacro\n%exitrep\n'))).toEqual([
      'main.asm:1:1: error: %exitmacro outside a macro',
      'main.asm:2:1: error: %exitrep outside %rep',
    ]);
  });

  it('an exponential expansion stops at the line budget a caller asks for', () => {
    let text = '%macro a0 0\n nop\n%endmacro\n';
    for (let i = 1; i <= 30; i++) text += `%macro a${i} 0\n a${i - 1}\n a${i - 1}\n%endmacro\n`;
    const r = assemble({ path: '/main.asm', text: text + 'a30\n', maxLines: 20_000 });
    expect(r.diagnostics.map((d) => d.message)).toEqual(["preprocessor output too large (over 20000 lines): runaway %rep or recursive macro? (in macro 'a30')"]);
    expect(r.image.sections.find((s) => s.name === '.text')!.size).toBeLessThan(20_000);
  });

  it('huge sizes are refused, not allocated', () => {
    const r = asm('resb 0x7fffffff\nalign 0x40000000\ntimes 0x7fffffff db 0\n');
    expect(r.ok).toBe(false);
    expect(r.diagnostics.every((d) => d.code === 'too-large' || d.code === 'zeroing')).toBe(true);
  });

  it('a register name is not a label (nasm refuses it too); $name is', () => {
    expect(messages(asm('si: dd 0\n'))).toEqual(["main.asm:1:1: error: 'si' is a register, not a label (write $si to use it as a name)"]);
    expect(asm('$si: dd 0\nmov eax, [$si]\n').ok).toBe(true);
  });

  it('16-bit code is refused with a reason', () => {
    expect(messages(asm('bits 16\n'))).toEqual(['main.asm:1:1: error: only 32-bit code is supported (bits 16)']);
    expect(messages(asm('bits\n'))).toEqual(['main.asm:1:1: error: bits expects a size: bits 32 (xenolab assembles 32-bit code only)']);
  });
});

describe('warnings', () => {
  it('a 16-bit address offset out of bounds, and [word reg] (as nasm)', () => {
    expect(messages(asm('mov eax, [word 0x12345]\nmov ecx, [word 0x12345]\nmov ax, [bx + 0x12345]\nmov eax, [word 0xffff]\n'))).toEqual([
      'main.asm:1:1: warning: word data exceeds bounds',
      'main.asm:2:1: warning: word data exceeds bounds',
      'main.asm:3:1: warning: word data exceeds bounds',
    ]);
    expect(messages(asm('mov eax, [word ebx + 1]\n'))).toEqual(['main.asm:1:10: error: invalid 32-bit effective address']);
    expect(messages(asm('a16 mov eax, [ebx]\n'))).toEqual(['main.asm:1:14: error: impossible combination of address sizes']);
  });

  it('byte data out of bounds', () => {
    const r = asm('db 300\n');
    expect(r.ok).toBe(true);
    expect(messages(r)).toEqual(['main.asm:1:4: warning: byte data exceeds bounds']);
  });
});
