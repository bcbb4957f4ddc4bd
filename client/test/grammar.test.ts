// The committed TextMate grammar, run by VS Code's own tokenizer (vscode-textmate over the
// Oniguruma regex engine, as the editor runs it) on guest source lines: privileged and
// sensitive instructions get their own scopes, and words that only look like mnemonics
// (a `.loop` label, a struct field `.out`) do not.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { MNEMONICS } from '../../isa/src/index.js';
import { GRAMMAR_PATH } from '../build/index.js';
import { INSTRUCTION_SCOPES } from '../build/grammar.js';

const root = join(import.meta.dirname, '..', '..');
let grammar: textmate.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => textmate.parseRawGrammar(readFileSync(join(root, GRAMMAR_PATH), 'utf8'), GRAMMAR_PATH),
  });
  grammar = (await registry.loadGrammar('source.xasm'))!;
});

/** The tokens of one line as [text, innermost scope]. */
function tokens(line: string): [string, string][] {
  const r = grammar.tokenizeLine(line, textmate.INITIAL);
  return r.tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]]);
}

/** The innermost scope all tokens of `word` (its first occurrence in `line`) lie in; the word must not share a token with its neighbours. */
function scopeOf(line: string, word: string): string {
  const at = line.indexOf(word);
  const covering = grammar.tokenizeLine(line, textmate.INITIAL).tokens.filter((t) => t.startIndex < at + word.length && at < t.endIndex);
  const text = line.slice(covering[0].startIndex, covering[covering.length - 1].endIndex);
  expect(text.trim(), `the tokens of '${word}' in '${line}'`).toBe(word);
  const common = covering.map((t) => t.scopes).reduce((a, b) => a.filter((x, i) => b[i] === x));
  return common[common.length - 1];
}

describe('xasm grammar', () => {
  it('colours privileged instructions apart, whatever the case and wherever on the line', () => {
    const lines: [string, string][] = [['    cli', 'cli'], ['    STI', 'STI'], ['start: hlt', 'hlt'], ['    lgdt [gdt_desc]', 'lgdt'], ['    out dx, al', 'out'],
      ['    rep insd', 'insd'], ['    invlpg [eax]', 'invlpg'], ['    wrmsr ; x', 'wrmsr']];
    for (const [line, word] of lines) expect(scopeOf(line, word), line).toBe(INSTRUCTION_SCOPES.privileged);
  });

  it('colours sensitive instructions apart from privileged and ordinary ones', () => {
    for (const line of ['    popf', '    pushfd', '    sgdt [where]', '    iret', '    cpuid', '    smsw ax']) {
      expect(scopeOf(line, line.trim().split(' ')[0]), line).toBe(INSTRUCTION_SCOPES.sensitive);
    }
    expect(new Set(Object.values(INSTRUCTION_SCOPES)).size).toBe(4);
    expect(INSTRUCTION_SCOPES.privileged.split('.')[0]).not.toBe(INSTRUCTION_SCOPES.sensitive.split('.')[0]);
  });

  it('makes mov privileged only with a control or debug register', () => {
    expect(scopeOf('    mov cr3, eax', 'mov')).toBe(INSTRUCTION_SCOPES.privileged);
    expect(scopeOf('    mov eax, cr0', 'mov')).toBe(INSTRUCTION_SCOPES.privileged);
    expect(scopeOf('    mov dr7, ebx', 'mov')).toBe(INSTRUCTION_SCOPES.privileged);
    expect(scopeOf('    mov eax, ebx', 'mov')).toBe(INSTRUCTION_SCOPES.normal);
    expect(scopeOf('    mov eax, 3 ; not cr3', 'mov')).toBe(INSTRUCTION_SCOPES.normal);
    expect(scopeOf('    mov cr3, eax', 'cr3')).toBe('variable.language.register.xasm');
  });

  it('gives every mnemonic of the instruction table its class', () => {
    for (const [m, info] of Object.entries(MNEMONICS)) {
      const expected = info.cls === 'normal' ? (info.group === 'control' ? INSTRUCTION_SCOPES.control : INSTRUCTION_SCOPES.normal) : INSTRUCTION_SCOPES[info.cls];
      expect(scopeOf(`    ${m}`, m), m).toBe(expected);
    }
  });

  it('does not take labels, local labels or struct fields for instructions', () => {
    expect(scopeOf('    jb .loop', '.loop')).not.toMatch(/keyword|invalid|support/);
    expect(scopeOf('    mov [edi + xencons_interface.out + ecx], al', 'xencons_interface.out')).not.toMatch(/keyword|invalid|support/);
    expect(scopeOf('.loop:', '.loop')).toBe('entity.name.function.label.xasm');
    expect(scopeOf('str_len equ 3', 'str_len')).not.toMatch(/support|invalid/);
    expect(tokens('_start:')[0]).toEqual(['_start', 'entity.name.function.label.xasm']);
  });

  it('scopes comments, strings, numbers, directives, preprocessor words, registers and xen.inc macros', () => {
    expect(scopeOf('    cli ; cli in a comment', '; cli in a comment')).toBe('comment.line.semicolon.xasm');
    expect(scopeOf('msg: db "cli and hlt", 10', '"cli and hlt"')).toBe('string.quoted.double.xasm');
    for (const n of ['0x1F', '0C0000000h', '1010b', '777q', '42']) expect(scopeOf(`    mov eax, ${n}`, n), n).toBe('constant.numeric.xasm');
    expect(scopeOf('msg: db 1', 'db')).toBe('storage.type.data.xasm');
    expect(scopeOf('    times 4096 db 0', 'times')).toBe('keyword.other.directive.xasm');
    expect(scopeOf('section .text', 'section')).toBe('keyword.other.directive.xasm');
    expect(scopeOf('%include "xen.inc"', '%include')).toBe('keyword.control.directive.preprocessor.xasm');
    expect(scopeOf('    jmp %%skip', '%%skip')).toBe('variable.parameter.macro.xasm');
    expect(scopeOf('    mov dword [eax], 1', 'dword')).toBe('storage.modifier.size.xasm');
    expect(scopeOf('    HYPERCALL_PAGE_CALL mmu_update', 'HYPERCALL_PAGE_CALL')).toBe('support.function.macro.xen.xasm');
    expect(scopeOf('    mov eax, __HYPERVISOR_sched_op', '__HYPERVISOR_sched_op')).toBe('support.constant.xen.xasm');
    expect(scopeOf('    lock xadd [eax], ebx', 'lock')).toBe('keyword.other.prefix.xasm');
    expect(scopeOf('    jmp $', '$')).toBe('constant.language.location.xasm');
  });

  it('tokenizes every seed without a token spanning an instruction and its operands', () => {
    for (const seed of ['hello', 'pagetables', 'traps', 'events']) {
      let state = textmate.INITIAL;
      for (const line of readFileSync(join(root, 'seeds', `${seed}.xasm`), 'utf8').split('\n')) {
        const r = grammar.tokenizeLine(line, state);
        state = r.ruleStack;
        for (const t of r.tokens) {
          const scope = t.scopes[t.scopes.length - 1];
          if (Object.values(INSTRUCTION_SCOPES).includes(scope as never)) expect(line.slice(t.startIndex, t.endIndex)).toMatch(/^[a-z0-9]+$/i);
        }
      }
    }
  });
});
