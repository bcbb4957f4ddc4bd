// Acceptance: xenolab's bytes are nasm's bytes, for the seeds and for a file using every
// supported preprocessor and assembler feature.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mismatches, nasmBin, xenolabBin } from './nasm.js';

const root = join(import.meta.dirname, '..', '..');
const seeds = readdirSync(join(root, 'seeds'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.xasm')).sort();

function expectSameAsNasm(path: string): void {
  const source = readFileSync(path, 'utf8');
  const ref = nasmBin(source);
  const { result, bytes } = xenolabBin(source, path);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(mismatches(result, bytes, ref)).toEqual([]);
  expect(Buffer.from(bytes).equals(ref)).toBe(true);
}

describe('byte-identical to nasm -f bin', () => {
  it('has seeds to check', () => expect(seeds.length).toBeGreaterThan(0));
  for (const seed of seeds) {
    it(`seed ${seed}`, () => expectSameAsNasm(join(root, 'seeds', seed)));
  }
  it('preprocessor and directive features', () => expectSameAsNasm(join(import.meta.dirname, 'fixtures', 'features.asm')));

  it('an include kept from an earlier assembly is encoded anew when the constants it uses change', () => {
    // The include's trees are reused across assemblies; bytes kept because LIMIT was an
    // `equ` constant belong to the assembly that had that LIMIT.
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-const-'));
    const inc = join(dir, 'lim.inc');
    writeFileSync(inc, 'add eax, LIMIT\nmov ebx, LIMIT * 2\n');
    for (const limit of [1, 300, 2]) {
      const source = `bits 32\nLIMIT equ ${limit}\n%include "${inc}"\n`;
      const { result, bytes } = xenolabBin(source, 'main.asm', dir);
      expect(result.ok).toBe(true);
      expect(Buffer.from(bytes).toString('hex')).toBe(nasmBin(source).toString('hex'));
    }
  });

  it.each([
    ['question marks: uninitialised data and the conditional operator', [
      'section .data', 'a: dd ?', 'b: db ?, ?, 1', 'times 3 dw ?', 'dd 1 ? 2 : 3, 0 ? 2 : 3, (3 > 2) ? 10 : 20, 1 ? 0 ? 7 : 8 : 9', 'section .bss', 'c: dd ?', 'd: resd 1',
      'section .text', '    mov eax, c', '    mov ebx, d', '    mov ecx, 1 ? 5 : 6', '?name: dd ?name',
    ]],
    ['a macro is not expanded within its own expansion (unless %rmacro)', [
      '%imacro ret 0', '    leave', '    ret', '%endmacro', '    RET', '    ret',
      '%macro push 1', '    push dword %1', '%endmacro', '    push 5',
      '%macro ping 0', '    pong', '%endmacro', '%macro pong 0', '    nop', '    ping', '%endmacro', '    ping',
      '%macro over 1', '    db %1', '    over %1, 9', '%endmacro', '%macro over 2', '    db %1, %2', '%endmacro', '    over 4',
      // (last: nasm drops the lines after a %rmacro whose expansion ends in a false %if)
      '%rmacro countdown 1', '    db %1', '%if %1 > 0', '    countdown %1 - 1', '%endif', '%endmacro', '    countdown 3',
    ]],
    ['__LINE__ (in macro and %rep bodies: their own lines, as nasm 2.16 counts)', [
      '%macro m 0', '  db __LINE__', '  db __?LINE?__', '%endmacro', 'db __LINE__', 'm', '%rep 2', 'db __LINE__', '%endrep',
      '%define L __LINE__', 'db L', '%ifdef __LINE__', 'db 0x77', '%endif', '%assign here __LINE__', 'db here',
    ]],
    ['string functions: %strcat, %substr, %defstr, %deftok, %strlen', [
      "%strcat S1 'ab', \"c'd\", `e\\n`", 'db S1', '%strcat S2 "x"', 'db S2',
      "%substr T1 'hello', 2, 3", "%substr T2 'hello', 1", "%substr T3 'hello' 2,-1", "%substr T4 'hello', 2, -2", "%substr T5 'hello', 9, 2",
      'db T1, T2, T3, T4, T5, 0', '%define A 5', '%defstr D1 mov eax, [ebx + 4]', '%defstr D2 A + 1', 'db D1, D2',
      "%deftok K 'db 7, 8'", 'K', "%strlen N1 'hello'", 'db N1', '%strlen N2 `a\\nb`', 'db N2', "%strcat Q 'it', \"'s\", ' \"quoted\"'", 'db Q',
    ]],
    ['context stack: %push/%pop/%repl, %$ and %$$ labels, %ifctx, and %-1 (the inverse condition)', [
      '%macro if 1', '  %push if', '  j%-1 %$ifnot', '%endmacro',
      '%macro else 0', '  %ifctx if', '    %repl else', '    jmp %$ifend', '    %$ifnot:', '  %else', '    %error "else without if"', '  %endif', '%endmacro',
      '%macro endif 0', '  %ifctx if', '    %$ifnot:', '    %pop', '  %elifctx else', '    %$ifend:', '    %pop', '  %else', '    %error "endif without if"', '  %endif', '%endmacro',
      'start:', '  cmp eax, ebx', '  if e', '    mov ecx, 1', '    cmp ecx, edx', '    if nc', '      nop', '    endif', '  else', '    mov ecx, 2', '  endif', '  ret',
      '%push outer', '%define %$n 3', '%$x: dd %$x, %$n', '%push inner', '%$y: dd %$$x, %$y', '%pop', '%pop outer',
    ]],
    ['%+n and %-n: a condition-code parameter as given and inverted; %+ still pastes', [
      '%macro jif 2', '  j%+1 %2', '  j%-1 %2', '  set%+1 al', '%endmacro', 'l: jif ae, l', '   jif z, l', '   jif NGE, l',
      '%define A foo', '%define B A %+ bar', 'B: dd B',
    ]],
    ['defines calling defines: arguments expanded inside the expansion, a name taking them from after it, %+ then reading again', [
      '%define f(x) ((x)*2)', '%define g(x,y) f(x)+f(y)', '%define h(x) f(f(x))', '%define k(x) f(x)', '%define hh(x) k(k(x))', '%define inc1(x) ((x)+1)',
      'dd g(3,4), h(5), k(f(1)), hh(1), f(inc1(inc1(1))), f ( 5 )',
      '%define pre f', '%define open f(', 'dd pre(3)', 'dd open 3)',
      '%define id(x) x', '%define ab 7', '%define abc 9', '%define bc 4', '%define x1y 5', '%define cat(a,b) a %+ b',
      'dd cat(a,b), cat(cat(a,b),c), cat(id(a),b), id(cat(a,b)), a %+ b, id(a %+ b), x %+ 1 %+ y, a %+ %+ b, cat(3,)',
    ]],
    ['a macro call splits at every comma but those in braces (inside parentheses and brackets too)', [
      '%macro cnt 1-*', '  db %0', '%endmacro', '  cnt [1, 2], (3, 4), 5', '  cnt {1, 2}, 3', '  cnt (1, 2', '  cnt {(1, 2)}',
      '%macro g 2+', '  %defstr S1 %1', '  %defstr S2 %2', "  db S1, '|', S2", '%endmacro', '  g (1,2), 3', '  g {1,2}, 3, (4,5)',
    ]],
    ['a greedy last parameter after a range (1-3+): more arguments join the last', [
      'x equ 10', 'y equ 11', '%macro m3 1-3+ x, y', '  db %0, %3', '%endmacro', '  m3 1', '  m3 1, 2, 3, 4', '  m3 1, 2, 3, 4, 5',
      '%macro m2 1-2 -1', '  db %0, %2', '%endmacro', '  m2 5',
    ]],
    ['%stacksize, %arg and %local: frame places as defines, %$localsize, through a macro too', [
      '%stacksize flat', '%push c', '%assign %$localsize 0', '%local l1:dword, l2:byte', '%local l3:word', '%arg a1:dword, a2:qword, a3:byte, a4:tword, a5:word',
      '  enter %$localsize, 0', '  mov eax, [l3]', '  mov eax, [a1]', '  mov eax, [a2]', '  mov al, [a3]', '  mov eax, [a5]', '  mov [l1], eax', '  dd %$localsize', '%pop',
      '%push d', '%assign %$localsize 0', '%local q:dword', '  mov eax, [q]', '  dd %$localsize', '%pop',
      '%push e', '%stacksize small', '%assign %$localsize 0', '%arg w1:word, w2:dword', '%local w3:word', '  mov ax, [w1]', '  mov ax, [w2]', '  mov ax, [w3]', '  dd %$localsize', '%pop',
      // (back to flat at the end: nasm keeps these settings from one pass into the next)
      '%stacksize flat', '%macro proc 2', '%push proc', '%assign %$localsize 0', '%arg %1:dword', '%local %2:dword', '  enter %$localsize, 0', '%endmacro',
      '%macro endproc 0', '  leave', '  ret', '%pop', '%endmacro', 'proc count, tmp', '  mov eax, [count]', '  mov [tmp], eax', 'endproc',
    ]],
    ['macro parameter ranges %{a:b}, the name as called and as defined (%?, %??), the call\'s label (%00), an address in db/dw', [
      '%macro show 1-*', '  db %0, %{1}', '  db %{1:2}', '  db %{2:1}', '  db %{-1:-2}', '  db %{2:-1}', '  db %{1:1}', '%endmacro', '  show 1, 2, 3',
      '%macro named 0', '  db %?, %??', '%endmacro', 'named:', '  named', '%imacro Named2 0', '  db %?, %??', '%endmacro', 'NAMED2:', 'Named2:', '  NAMED2',
      '%macro withlabel 0', '%00: db 7', '%endmacro', 'foo: withlabel', 'bar withlabel', '  dd foo, bar', '%macro plain 0', '  nop', '%endmacro', 'l1: plain', 'l2 plain', '  dd l1, l2',
      'x: dw x', '  db x, y', 'y: db 0',
    ]],
    ['nasm 2.16\'s preprocessor functions: %eval, %abs, %num, %str, %strlen, %strcat, %substr, %count, %sel, %cond, %is..., %tok', [
      '%define A 5', '%define M(x) x*2',
      'db %eval(3*4), %eval(A+1), %eval(-5), %eval(1, 2+3)', 'db %abs(-5), %abs(7)',
      'db %num(42), %num(255, 4, 16), %num(-5), %num(10, 1, 2), %num(255, -1, 16), %num(10, 8, 2)',
      'db %str(a b), %str(A), %str(), %str(x,  y)', 'db %strlen("abc"), %strlen(\'\')', 'db %strcat("a", \'b\', `c`)',
      'db %substr("hello", 2, 3), %substr("hello", 2)', 'db %count(1,2,3), %count(), %count(a)', 'db %sel(2, 5, 6, 7)', 'db %cond(1, 8, 9), %cond(0, 8, 9), %cond(0, 8) 0',
      "db %isdef(A), %isndef(A), %isnum(5), %isstr('x'), %isidn(a, a), %isempty(), %isnempty(x), %ismacro(M), %isid(foo), %is(1+1), %isn(0), %isnnum(x)",
      'db %tok("3"), %tok(\'A+1\')', 'db %EVAL(2)', '%define F(x) %eval(x*3)', 'db F(4), F(2)', '%assign Q %eval(7)', 'db Q', 'db M(%eval(2))',
    ]],
    ['%ifidn/%ifidni as nasm compares: token by token, strings by contents, a blank before the comma, more commas', [
      ...['a,a', 'a ,a', 'a, a', 'a b,a b', 'a  b,a b', 'a b,ab', `'x',"x"`, "`x`,'x'", "'a b','a b'", '(a),( a)', 'a,A', 'a,b,c', 'a,a,c']
        .flatMap((c) => [`%ifidn ${c}`, 'db 1', '%else', 'db 0', '%endif', `%ifidni ${c}`, 'db 1', '%else', 'db 0', '%endif']),
    ]],
    ['%ifenv, %iftoken, %ifusable, %ifusing (and their %ifn, %is forms)', [
      '%ifenv PATH', 'db 1', '%endif', '%ifenv XENOLAB_SURELY_UNSET', 'db 2', '%endif', '%ifenv "PATH"', 'db 3', '%endif',
      '%iftoken 1', 'db 4', '%endif', '%iftoken 1 2', 'db 5', '%endif', '%ifntoken 1 2', 'db 6', '%endif',
      '%ifusable smartalign', 'db 7', '%endif', '%ifusable nopackage', 'db 8', '%endif', '%ifusing altreg', 'db 9', '%endif', '%ifnusing altreg', 'db 10', '%endif',
      'db %isenv(PATH), %istoken(x), %isntoken(x y)',
    ]],
    ['%line renumbers __LINE__ and renames __FILE__ (in macro bodies of the file too)', [
      '%line 100+1 foo.asm', 'db __LINE__', 'db __LINE__', '%line 7+3 "q r.asm"', 'db __LINE__', '', 'db __LINE__, __FILE__', '%line 50', 'db __LINE__, __FILE__',
      '%macro m 0', 'db __LINE__', '%endmacro', 'm',
    ]],
    ['%unmacro and %unimacro forget one parameter count; %ifmacro can ask for one', [
      '%macro m 1', 'db %1', '%endmacro', '%macro m 2', 'db %1, %2', '%endmacro', '%unmacro m 1', 'm 1, 2',
      '%imacro k 0', 'nop', '%endmacro', '%unimacro k 0', '%ifmacro k', 'db 9', '%endif',
      '%ifmacro m 2', 'db 7', '%endif', '%ifmacro m 1', 'db 8', '%endif', '%macro r 1-3', '%endmacro', '%ifmacro r 1-3', 'db 6', '%endif', '%ifmacro r 2', 'db 5', '%endif',
    ]],
    ['shift counts are taken modulo 64, as nasm shifts', [
      'dq 1 << 64, 1 << 65, 256 >> 65, -256 >>> 65, 1 << -1, 256 >> -63, 0x8000000000000000 >> 63, -1 >>> 64, 3 << 63',
    ]],
    ['comparisons order by the sign of the 64-bit difference, as nasm compares', [
      'dq -1 < 0, 0xffffffffffffffff < 0, 0x8000000000000000 < 0, 0x8000000000000000 < 108, -5 < 3, 0x8000000000000000 > 0',
      'dq 0x7fffffffffffffff < 0x8000000000000000, -1 <= -2, 5 >= 5, 0x8000000000000000 >= 1, 7 > 3, 3 <= 7',
    ]],
    ['section.NAME.start: where a section begins, before or after it is declared', [
      'org 0x1000', 'section .text', '  mov edx, section..data.start', '  mov eax, section..text.start', '  dd section..bss.start',
      'section .data align=16', '  db 1', 'section .bss', '  resb 4',
    ]],
    ['struc with a start offset', [
      'struc point', '  .x: resd 1', '  .y: resd 1', 'endstruc', 'struc ALIGNED, 4', '  .a resb 1', '  alignb 4', '  .b resd 1', 'endstruc',
      'struc NEG, -8', '  .prev resd 1', '  .next resd 1', 'endstruc',
      'dd point_size, ALIGNED, ALIGNED.a, ALIGNED.b, ALIGNED_size, NEG, NEG.next, NEG_size', '  mov eax, [ebp + NEG.prev]',
    ]],
    ['sectalign raises a section\'s alignment without padding; after sectalign off, align no longer does', [
      'section .text', '  nop', '  sectalign 32', '  nop', 'section .data', '  db 1', '  sectalign off', '  align 64', '  sectalign 16',
      '  db 2', '  sectalign on', '  [sectalign 8]', 'section .rodata', '  db 3', '  align 32', 'section .bss', '  resb 3', 'after:', 'section .text', '  dd after',
    ]],
    ['a macro\'s parameter count ends at a blank: what follows is defaults (`0-2 7, 8`, `1-2 +5`), .nolist is read', [
      '%macro d 0-2 7, 8', 'db %1, %2', '%endmacro', 'd', 'd 1', 'd 1, 2',
      '%macro p 1-2 +5', 'db %1 %2', '%endmacro', 'p 1', '%macro n 1-2 -5', 'db %1 %2', '%endmacro', 'n 1',
      '%macro g 1+.nolist', 'db %1', '%endmacro', 'g 1, 2', '%macro o 1.nolist', 'db %1', '%endmacro', 'o 3', '%macro c 0-*.nolist', 'db %0', '%endmacro', 'c 1, 2',
    ]],
    ['a data directive with no operand (an empty macro argument) emits nothing; a trailing comma is allowed', [
      '%macro m 0-1', 'db %1', '%endmacro', 'm', 'db 1', 'dw', 'times 2 dd', 'x: dd', 'dd x', 'db 2,', 'times 2 dw 3, ',
    ]],
    ['a size keyword that says what the register says is accepted (`push dword %1` called with a register)', [
      '%macro pushd 1', 'push dword %1', '%endmacro', 'pushd eax', 'pushd 5', 'mov dword eax, 1', 'mov byte al, byte 2', 'push strict dword ebx', 'push word ds',
    ]],
    ['an o16/o32 prefix that contradicts the operand size decides it, as in nasm', [
      'o32 mov ax, bx', 'o32 cwd', 'o32 cbw', 'o32 movsw', 'o32 pushaw', 'o16 movsd', 'o16 cbw', 'o16 push 5', 'o32 mov eax, ebx',
    ]],
    ['lar/lsl read a 16-bit selector from any register or a word; loop names its count register', [
      'lar eax, ax', 'lar eax, ebx', 'lar ax, ebx', 'lar cx, [esi]', 'lsl edx, word [eax]', 'lsl eax, [ebx + 4]',
      'l: loop l, cx', 'loope l, ecx', 'loopnz $, cx', 'loop $',
    ]],
  ])('%s', (_, lines) => {
    const source = ['bits 32', ...lines].join('\n') + '\n';
    const { result, bytes } = xenolabBin(source, 'q.asm');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(Buffer.from(bytes).toString('hex')).toBe(nasmBin(source).toString('hex'));
  });

  it('[word X] and a16: 16-bit addressing (0x67, a 2-byte offset), as nasm encodes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-word-'));
    const source = [
      'bits 32', 'org 0xC0000000', 'mov eax, [word 0x10]', 'mov al, [word 0x1234]', 'mov [word 0x10], ebx', 'mov ecx, [word 0x10]',
      'mov cx, [word 0x10]', 'lea esi, [word lbl + 2]', 'add dword [word 0x30], 5', 'inc byte [word 0x22]', 'push dword [word 0x44]',
      'jmp [word 0x50]', 'mov eax, [word fwd]', 'mov ecx, [word -2]', 'mov eax, [dword 0x10]',
      // an a16 prefix asks for the same (the disassembler writes 67 a1 as `a16 mov eax, [X]`)
      'a16 mov eax, [0x2345]', 'a16 mov ecx, [0x10]', 'a16 mov eax, [bx + si]', 'a16 movsb', 'a32 mov eax, [0x10]', 'lbl: dd 0', 'fwd: dd 0', '',
    ].join('\n');
    writeFileSync(join(dir, 'word.asm'), source);
    const { result, bytes } = xenolabBin(source, join(dir, 'word.asm'));
    expect(result.diagnostics).toEqual([]);
    expect(Buffer.from(bytes).toString('hex')).toBe(nasmBin(source).toString('hex'));
  });

  it('%pathsearch: the path %include would find, or the name as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-path-'));
    const main = join(dir, 'main.asm');
    writeFileSync(join(dir, 'data.bin'), 'x');
    const source = 'bits 32\n%pathsearch P "data.bin"\n%pathsearch Q "nothere.bin"\ndb P, 0, Q\n';
    writeFileSync(main, source);
    const { result, bytes } = xenolabBin(source, main, dir);
    expect(result.ok).toBe(true);
    execFileSync('nasm', ['-f', 'bin', `-I${dir}/`, '-o', join(dir, 'out.bin'), main]);
    expect(Buffer.from(bytes).toString('hex')).toBe(readFileSync(join(dir, 'out.bin')).toString('hex'));
  });

  it('%!NAME and %!\'NAME\': an environment variable\'s value, read as tokens', () => {
    process.env['XENOLAB_TEST_VALUE'] = '12 + 3';
    const source = 'bits 32\ndb %!XENOLAB_TEST_VALUE, %!"XENOLAB_TEST_VALUE"\n%ifenv XENOLAB_TEST_VALUE\ndb 1\n%endif\n';
    const { result, bytes } = xenolabBin(source, 'env.asm');
    expect(result.ok).toBe(true);
    expect(Buffer.from(bytes).toString('hex')).toBe(nasmBin(source).toString('hex'));
    const unset = xenolabBin('bits 32\ndb 1 %!XENOLAB_SURELY_UNSET\n', 'env.asm');
    expect(unset.result.diagnostics.map((d) => d.message)).toEqual(["environment variable 'XENOLAB_SURELY_UNSET' is not set"]);
  });

  it('__FILE__ is the path of the file being read, as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-file-'));
    const main = join(dir, 'main.asm');
    writeFileSync(join(dir, 'part.inc'), 'dd __FILE__, __LINE__\n');
    const source = `bits 32\ndd __FILE__\n%include "${join(dir, 'part.inc')}"\ndb __?FILE?__, 0\n`;
    writeFileSync(main, source);
    const { result, bytes } = xenolabBin(source, main, dir);
    expect(result.ok).toBe(true);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'out.bin'), main]);
    expect(Buffer.from(bytes).toString('hex')).toBe(readFileSync(join(dir, 'out.bin')).toString('hex'));
  });
});

