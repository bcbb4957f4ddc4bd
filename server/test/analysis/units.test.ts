// The pieces of the analysis on small programs: the marker parser, where instructions are,
// the control-flow graph and its loops, constant propagation and definite assignment,
// trip counts, hypercall sites, and analyze()'s guarantees.

import { describe, expect, it } from 'vitest';
import { assemble, withBuiltins, type SourceProvider } from '../../../asm/src/index.js';
import {
  analyze, analyzeDataflow, buildCfg, buildProgram, hypercallSites, tripCount, type Dataflow,
} from '../../src/analysis/index.js';
import { decode } from '../../../isa/src/index.js';
import { effects, flowOf } from '../../src/analysis/effects.js';
import { decodedKept } from '../../src/analysis/program.js';
import { parseExpectations } from './expect.js';

const HEAD = ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page', 'section .text', '_start:'];
const TAIL = ['    jmp $', 'align 4096, db 0', 'hypercall_page: times 4096 db 0', 'section .data', 'var: dd 0', 'table: times 16 dd 0'];

function program(body: string[], files: Record<string, string> = {}) {
  const provider: SourceProvider = withBuiltins({ read: (p) => (p in files ? { path: p, text: files[p] } : null) });
  const text = [...HEAD, ...body, ...TAIL].join('\n');
  const result = assemble({ path: '/t.xasm', text, provider });
  expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  const p = buildProgram(result);
  const cfg = buildCfg(p);
  const df = analyzeDataflow(cfg);
  return { text, p, cfg, df, sites: hypercallSites(df) };
}

/** Index of the first instruction on the line (of the whole text) that contains `needle`. */
function at(text: string, p: ReturnType<typeof program>['p'], needle: string, nth = 0): number {
  const lines = text.split('\n');
  let line = -1;
  for (let i = 0, k = 0; i < lines.length; i++) if (lines[i].includes(needle) && k++ === nth) { line = i; break; }
  const f = p.files[0];
  const i = p.instrs.findIndex((ins) => ins.user.file === 0 && f.text.slice(0, ins.user.start).split('\n').length - 1 === line);
  if (i < 0) throw new Error(`no instruction on the line of ${needle}`);
  return i;
}

const reg = (df: Dataflow, i: number, r: number) => df.before(i)!.regs[r];
const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESI = 6, EDI = 7;

describe('expectation markers', () => {
  it('parses carets, expect lines and related notes against the code line above', () => {
    const e = parseExpectations(['    cli', ';   ^^^ error privileged-instruction "ring 1"', '; expect: warning x-y', '; related: a.inc:3', '; related: b.xasm "mov eax"', 'next'].join('\n'));
    expect(e).toEqual([
      { line: 0, columns: { start: 4, end: 7 }, severity: 'error', code: 'privileged-instruction', contains: 'ring 1', related: [], marker: 2 },
      { line: 0, columns: null, severity: 'warning', code: 'x-y', contains: null, related: [{ file: 'a.inc', line: 3, text: null }, { file: 'b.xasm', line: null, text: 'mov eax' }], marker: 3 },
    ]);
  });
});

describe('program', () => {
  it('places macro and include code at the invoking line, keeping the inner place', () => {
    const { text, p } = program(['%include "inc.inc"', '    TWO', '    HYPERCALL sched_op', '    mov eax, 1'], { 'inc.inc': '%macro TWO 0\n  nop\n  nop\n%endmacro\n  cld\n' });
    const root = p.files[0];
    const lineOf = (s: number) => root.text.slice(0, s).split('\n').length - 1;
    const cld = p.instrs.find((i) => i.mnemonic === 'cld')!;
    expect(lineOf(cld.user.start)).toBe(text.split('\n').indexOf('%include "inc.inc"'));
    expect(p.files[cld.inner!.file].path).toBe('inc.inc');
    const nops = p.instrs.filter((i) => i.mnemonic === 'nop');
    expect(nops.map((i) => root.text.slice(i.user.start, i.user.end))).toEqual(['TWO', 'TWO']);
    const int = p.instrs.find((i) => i.mnemonic === 'int')!;
    expect(root.text.slice(int.user.start, int.user.end)).toBe('HYPERCALL sched_op');
    expect(int.hypercall).toBe(true);
    const mov = p.instrs[at(text, p, 'mov eax, 1')];
    expect(mov.direct).toBe(true);
    expect(mov.inner).toBeNull();
    expect(p.hypercallPage).toBe(p.symbolByName.get('hypercall_page')!.value);
  });

  it('finds code whose address the program takes', () => {
    const { text, p } = program(['    mov dword [var], handler', '    jmp $', 'handler:', '    nop', 'other:', '    nop', 'section .data', 'ptrs: dd other', 'section .text']);
    expect([...p.addressTaken].sort()).toEqual([at(text, p, '    nop'), at(text, p, '    nop', 1)].sort());
  });
});

describe('findings from an include', () => {
  it('are one each, though they all show at the %include line', () => {
    const inc = 'helper1:\n    cli\n    ret\nhelper2:\n    cli\n    ret\n';
    const provider: SourceProvider = withBuiltins({ read: (p) => (p === 'h.inc' ? { path: 'h.inc', text: inc } : null) });
    const text = 'bits 32\nsection .text\n_start: jmp $\n%include "h.inc"\n';
    const found = analyze({ path: '/i.xasm', text, provider }).findings.filter((f) => f.code === 'privileged-instruction');
    expect(found.map((f) => [f.range.start.line, f.related.map((r) => `${r.file}:${r.range.start.line}`)])).toEqual([[3, ['h.inc:1']], [3, ['h.inc:4']]]);
  });

  it('and from one macro a macro calls twice, two', () => {
    const text = 'bits 32\n%macro N 0\n    cli\n%endmacro\n%macro M 0\n    N\n    N\n%endmacro\nsection .text\n_start:\n    M\n    jmp $\n';
    const found = analyze({ path: '/m.xasm', text, provider: withBuiltins({ read: () => null }) }).findings.filter((f) => f.code === 'privileged-instruction');
    expect(found.length).toBe(2);
  });

  it('an instruction a %define writes is located where the define is used, the define as related information', () => {
    const text = 'bits 32\n%define DISABLE cli\n%define FLUSH(x) invlpg [x]\nsection .text\n_start:\n    DISABLE\nhere: FLUSH(eax)\n    jmp $\n';
    const found = analyze({ path: '/d.xasm', text, provider: withBuiltins({ read: () => null }) }).findings.filter((x) => x.code === 'privileged-instruction');
    expect(found.map((f) => [f.range.start.line, f.range.start.column, f.message.split(' is ')[0], f.related.map((r) => r.range.start.line)])).toEqual([
      [5, 4, '`cli`', [1]],
      [6, 6, '`invlpg [eax]`', [2]],
    ]);
  });

  it('a macro line is shown as expanded, its place only its own line', () => {
    const text = 'bits 32\n%macro SWITCH 1\n    mov cr3, %1 ; load it\n%endmacro\nsection .text\n_start:\n    SWITCH eax\n    jmp $\n';
    const [f] = analyze({ path: '/m.xasm', text, provider: withBuiltins({ read: () => null }) }).findings.filter((x) => x.code === 'privileged-instruction');
    expect(f.message).toMatch(/^`mov cr3, eax` is privileged/);
    // the statement's span reaches to its argument, four lines on: the note stops at its line's end
    expect(f.related.map((r) => [r.range.start, r.range.end])).toEqual([[{ line: 2, column: 4 }, { line: 2, column: 15 }]]);
  });
});

describe('program decoding across edits', () => {
  it('instructions decoded again after an edit are what decoding them afresh gives', () => {
    const body = (extra: string[]) => [...extra, 'top:', '    mov ecx, 3', '.l:', '    mov eax, [var]', '    add [table + ecx * 4], eax', '    call fn',
      '    loop .l', '    jmp near top', 'fn:', '    jz .out', '    mov [0x1234], al', '    push dword top', '.out:', '    ret', '    times 3 nop'];
    // the same code at the same place, then moved by one and by five bytes, then changed in place
    for (const extra of [[], [], ['    nop'], ['    nop', '    mov eax, 1'], ['    int3']]) {
      const { p } = program(body(extra));
      for (const ins of p.instrs) {
        const bytes = Uint8Array.from({ length: ins.length }, (_, k) => p.read8(ins.address + k)!);
        const fresh = decode(bytes, 0, ins.address);
        if (!fresh.ok) throw new Error(`${ins.mnemonic} does not decode`);
        const { address: _, ...want } = fresh.insn;
        const { address: __, ...got } = ins.insn;
        expect(got).toEqual(want);
        expect(ins.fx).toEqual(effects(fresh.insn));
        expect(ins.flow).toEqual(flowOf(fresh.insn));
      }
    }
  });
});

describe('decoded instructions kept between programs', () => {
  it('stay within about twice what a program uses, however many edits moved the code', () => {
    let most = 0;
    for (let shift = 0; shift < 1200; shift += 7) {
      const { p } = program([...Array(shift).fill('    nop'), 'top:', ...Array(40).fill('    jz top'), '    mov eax, [var]']);
      most = Math.max(most, p.instrs.length);
      expect(decodedKept()).toBeLessThanOrEqual(2 * most + 1024 + p.instrs.length);
    }
  });
});

describe('instructions kept between programs', () => {
  it('the instructions before an edit are the last program\'s, each as a program built afresh makes it', () => {
    const provider = withBuiltins({ read: () => null });
    const text = (line: string) => [
      ...HEAD, '    mov ecx, 3', '.top:', '    push ecx', '    mov ebx, CONSOLEIO_write', '    HYPERCALL console_io', '    pop ecx', '    dec ecx',
      '    jnz .top', line, '    mov eax, [var]', ...TAIL,
    ].join('\n');
    // built twice: a decode cache left large by other programs is emptied after the first
    buildProgram(assemble({ path: '/kept.xasm', text: text('    nop'), provider }));
    const before = buildProgram(assemble({ path: '/kept.xasm', text: text('    nop'), provider }));
    const after = buildProgram(assemble({ path: '/kept.xasm', text: text('    inc eax'), provider }));
    // the same text under another name, after another program: none of the last one's
    // lines is its (a macro's expanded lines may be: the same tokens make the same tree)
    buildProgram(assemble({ path: '/other.xasm', text: text('    nop'), provider }));
    const fresh = buildProgram(assemble({ path: '/fresh.xasm', text: text('    inc eax'), provider }));
    const edited = at(text('    inc eax'), after, '    inc eax');
    // the file's own lines and the lines its macro calls expand to
    expect(after.instrs.slice(0, edited).some((ins) => ins.line.stack.length > 0)).toBe(true);
    for (let i = 0; i < edited; i++) expect(after.instrs[i]).toBe(before.instrs[i]);
    expect(fresh.instrs.some((ins, i) => ins === after.instrs[i] && ins.line.stack.length === 0)).toBe(false);
    const facts = (ins: (typeof after.instrs)[number]) => [
      ins.index, ins.address, ins.length, ins.mnemonic, ins.flow, ins.fx, ins.hypercall, ins.tainted, ins.direct, ins.user.start, ins.user.end,
      ins.inner?.start, ins.statement.start, ins.line.stack.map((f) => [f.kind, f.name, f.span.start]),
    ];
    expect(after.instrs.map(facts)).toEqual(fresh.instrs.map(facts));
  });
});

describe('control flow', () => {
  it('splits blocks at labels and branches, with call and return edges', () => {
    const { text, p, cfg } = program(['    mov ecx, 3', '.top:', '    call f', '    dec ecx', '    jnz .top', '    jmp $', 'f:', '    ret']);
    const call = cfg.blocks[cfg.blockOf[at(text, p, 'call f')]];
    expect(call.succ.map((e) => e.kind).sort()).toEqual(['call', 'return']);
    const f = cfg.functions[cfg.functionAt.get(cfg.blockOf[at(text, p, '    ret')])!];
    expect(f.callers).toEqual([call.id]);
    expect(f.returns).toEqual([cfg.blockOf[at(text, p, '    ret')]]);
    expect(cfg.loops).toHaveLength(3); // .top and the two `jmp $`
    const top = cfg.loops.find((l) => l.header === call.id)!;
    expect(top.latches).toEqual([cfg.blockOf[at(text, p, 'dec ecx')]]);
    expect(cfg.dominates(call.id, cfg.blockOf[at(text, p, 'dec ecx')])).toBe(true);
  });

  it('nests loops and finds cycles entered in two places', () => {
    const { text, p, cfg } = program([
      '    mov esi, 4', '.outer:', '    mov edi, 8', '.inner:', '    dec edi', '    jnz .inner', '    dec esi', '    jnz .outer',
      '    cmp eax, 1', '    je .b', '.a:', '    inc eax', '    jmp .b', '.b:', '    dec eax', '    jnz .a',
    ]);
    const inner = cfg.loops[cfg.loopOf[cfg.blockOf[at(text, p, 'dec edi')]]];
    const outer = cfg.loops[cfg.loopOf[cfg.blockOf[at(text, p, 'dec esi')]]];
    expect(inner.parent).toBe(outer.id);
    expect(inner.irreducible || outer.irreducible).toBe(false);
    const cyc = cfg.loops[cfg.loopOf[cfg.blockOf[at(text, p, 'inc eax')]]];
    expect(cyc.irreducible).toBe(true);
    expect(cyc.blocks.has(cfg.blockOf[at(text, p, 'dec eax')])).toBe(true);
  });
});

describe('constant propagation', () => {
  it('follows arithmetic, partial registers and the stack', () => {
    const { text, p, df } = program([
      '    mov eax, 5', '    shl eax, 4', '    lea ebx, [eax + eax * 2 + 1]', '    xor ecx, ecx', '    mov cl, 0x12', '    mov ch, 0x34',
      '    push ebx', '    mov ebx, 7', '    pop edx', '    sub edx, 1', '    neg edx', '    mov esi, var', '    nop',
    ]);
    const i = at(text, p, '    nop');
    expect(reg(df, i, EAX)).toBe(80);
    expect(reg(df, i, EBX)).toBe(7);
    expect(reg(df, i, ECX)).toBe(0x3412);
    expect(reg(df, i, EDX)).toBe((-240 >>> 0));
    expect(reg(df, i, ESI)).toBe(p.symbolByName.get('var')!.value);
  });

  it('meets values where paths join, and follows calls', () => {
    const { text, p, df } = program([
      '    mov eax, 1', '    mov ebx, 2', '    cmp byte [var], 0', '    je .x', '    mov eax, 3', '.x:', '    mov edi, 9', '    call keeps', '    call clobbers', '    call [var]', '    nop',
      '    jmp $', 'keeps:', '    push edi', '    mov edi, 1', '    pop edi', '    ret', 'clobbers:', '    mov ebx, 42', '    ret',
    ]);
    expect(reg(df, at(text, p, 'mov edi, 9'), EAX)).toBeNull();
    expect(reg(df, at(text, p, 'mov edi, 9'), EBX)).toBe(2);
    const i = at(text, p, '    nop');
    expect(reg(df, i, EDI)).toBe(9); // keeps restores it
    expect(reg(df, i, EBX)).toBe(42); // clobbers' result, then call [var] keeps ebx
    expect(reg(df, i, ECX)).toBeNull();
  });

  it('knows which registers are set on every path, and who set them', () => {
    const { text, p, df } = program(['    cmp byte [var], 0', '    je .y', '    mov ecx, 1', '.y:', '    mov edx, 2', '    nop']);
    const s = df.before(at(text, p, '    nop'))!;
    expect(s.defined & (1 << ECX)).toBe(0);
    expect(s.defined & (1 << EDX)).not.toBe(0);
    expect(s.defined & (1 << ESI)).not.toBe(0); // start_info, from Xen
    expect(s.def[EDX]).toBe(at(text, p, 'mov edx, 2'));
  });

  it('follows start_info through a variable to pt_base', () => {
    const { text, p, df } = program(['    mov [var], esi', '    xor esi, esi', '    mov ebx, [var]', '    mov eax, [ebx + start_info.pt_base]', '    add eax, 8', '    nop']);
    const i = at(text, p, '    nop');
    expect(reg(df, i, EBX)).toBe('S0');
    expect(reg(df, i, EAX)).toBe('P');
  });
});

describe('trip counts', () => {
  const trip = (body: string[], needle: string) => {
    const { text, p, cfg, df } = program(body);
    return tripCount(df, cfg.loops[cfg.loopOf[cfg.blockOf[at(text, p, needle)]]]);
  };
  it('loop, dec/jnz, inc/cmp/jb, top-tested', () => {
    expect(trip(['    mov ecx, 10', '.l:', '    nop', '    loop .l'], '    nop')?.iterations).toBe(10);
    expect(trip(['    mov edi, 7', '.l:', '    nop', '    dec edi', '    jnz .l'], '    nop')?.iterations).toBe(7);
    expect(trip(['    xor esi, esi', '.l:', '    nop', '    add esi, 4', '    cmp esi, 64', '    jb .l'], '    nop')?.iterations).toBe(16);
    expect(trip(['    mov edi, 1', '.l:', '    cmp edi, 32', '    je .done', '    nop', '    inc edi', '    jmp .l', '.done:'], '    nop')?.iterations).toBe(31);
    expect(trip(['    mov ebx, 100', '.l:', '    nop', '    sub ebx, 10', '    jg .l'], '    nop')?.iterations).toBe(10);
  });
  it('a counter saved around the body, and counts that cannot be known', () => {
    expect(trip(['    mov ecx, 5', '.l:', '    push ecx', '    mov ecx, 1', '    pop ecx', '    loop .l'], 'push ecx')?.iterations).toBe(5);
    expect(trip(['    mov ecx, [var]', '.l:', '    nop', '    loop .l'], '    nop')).toBeNull();
    expect(trip(['    mov ecx, 5', '.l:', '    call f', '    loop .l', '    jmp $', 'f:', '    mov ecx, 2', '    ret'], 'call f')).toBeNull();
    expect(trip(['    mov edi, 3', '.l:', '    cmp byte [var], 0', '    je .s', '    dec edi', '.s:', '    test edi, edi', '    jnz .l'], 'cmp byte')).toBeNull();
    // a second back edge that skips the bound test: 17 rounds, not the 16 the test counts
    expect(trip(['    xor edi, edi', '.l:', '    nop', '    inc edi', '    test edi, 3', '    jz .l', '    cmp edi, 16', '    jb .l'], '    nop')).toBeNull();
  });
});

describe('hypercall sites', () => {
  it('by int 0x82 with eax, and by the hypercall page offset', () => {
    const { sites } = program(['    mov eax, __HYPERVISOR_console_io', '    int 0x82', '    HYPERCALL_PAGE_CALL mmu_update', '    HYPERCALL_PAGE_JMP iret', '    call hypercall_page + 33']);
    expect(sites.map((s) => [s.via, s.hypercall?.name ?? null, s.misaligned])).toEqual([
      ['int', 'console_io', null], ['page-call', 'mmu_update', null], ['page-jump', 'iret', null], ['page-call', null, 33],
    ]);
  });
});

describe('analyze', () => {
  it('never throws, even when the provider does', () => {
    const bad: SourceProvider = { read: () => { throw new Error('disk on fire'); } };
    const r = analyze({ path: '/x.xasm', text: '%include "a.inc"\n    cli\n', provider: bad });
    expect(r.findings.map((f) => f.code)).toEqual(['internal']);
    expect(r.findings[0].message).toContain('disk on fire');
  });

  it('assembler errors cannot be configured away, its warnings can', () => {
    const text = 'bits 32\n    mov eax, nowhere\nlonely\n';
    const all = analyze({ path: '/x.xasm', text, provider: { read: () => null } }, { rules: { asm: 'off' } }).findings;
    expect(all.map((f) => [f.code, f.severity])).toEqual([['asm', 'error']]);
    expect(all[0].fixes).toEqual([]);
  });

  it('a line with an assembler error sets registers to values not known (an undefined name is not 0)', () => {
    // Assembled as `mov eax, 0`, the hypercall would be set_trap_table, which reads ebx.
    const text = [...HEAD, '    mov eax, __HYPERVISOR_consol_io', '    push nowhere', '    pop ecx', '    int 0x82', ...TAIL].join('\n');
    const findings = analyze({ path: '/x.xasm', text, provider: withBuiltins({ read: () => null }) }).findings;
    expect(findings.map((f) => [f.code, f.message])).toEqual([
      ['asm', "symbol '__HYPERVISOR_consol_io' is not defined"], ['asm', "symbol 'nowhere' is not defined"],
    ]);
  });

  it('names the file that includes an include defines are not undefined, and nothing that follows from them is reported', () => {
    const text = 'console_write:\n    mov eax, __HYPERVISOR_console_io\n    int 0x82\n    mov ebx, NOWHERE\n    ret\n';
    const defined = new Set(['__HYPERVISOR_console_io']);
    const findings = analyze({ path: '/lib.inc', text, provider: { read: () => null }, definedByIncluder: (n) => defined.has(n) }).findings;
    expect(findings.map((f) => f.message)).toEqual(["symbol 'NOWHERE' is not defined"]);
  });

  it('reuses an assembly it is given', () => {
    const text = [...HEAD, '    cli', ...TAIL].join('\n');
    const provider = withBuiltins({ read: () => null });
    const given = assemble({ path: '/x.xasm', text, provider });
    expect(analyze({ path: '/x.xasm', text, provider }, {}, given).findings).toEqual(analyze({ path: '/x.xasm', text, provider }).findings);
  });
});
