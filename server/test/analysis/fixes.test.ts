// Every quick fix offered on the fixtures and the seeds, applied: the result must assemble
// (no error it did not have before) and the finding it fixes must be gone.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../asm/src/index.js';
import { analyze, type AnalysisOptions, type Finding, type Fix } from '../../src/analysis/index.js';
import { applyEdits, FIXTURES, fixtureNames, optionsOf, provider, SEEDS } from './util.js';

const files = [...fixtureNames().map((n) => join(FIXTURES, n)), join(SEEDS, 'pagetables.xasm'), join(SEEDS, 'traps.xasm')];
/** The include files next to the fixtures, as a host would offer them for the missing-include fix. */
const includeCandidates = readdirSync(FIXTURES).filter((f) => f.endsWith('.inc'));
const analyzeText = (path: string, text: string, options: AnalysisOptions = {}) => analyze({ path, text, provider, includeCandidates }, options).findings;

const errors = (path: string, text: string) => assemble({ path, text, provider }).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
const count = (fs: readonly Finding[], code: string) => fs.filter((f) => f.code === code).length;

describe('quick fixes', () => {
  const titles: string[] = [];
  for (const path of files) {
    it(`every fix on ${path.split('/').slice(-1)[0]} assembles and removes its finding`, () => {
      const text = readFileSync(path, 'utf8');
      const options = optionsOf(text);
      const before = analyzeText(path, text, options);
      const errorsBefore = errors(path, text);
      for (const f of before) {
        for (const fix of f.fixes) {
          for (const e of fix.edits) expect(e.file).toBe(path);
          const fixed = applyEdits(text, fix.edits);
          const errorsAfter = errors(path, fixed);
          expect(errorsAfter.filter((m) => !errorsBefore.includes(m)), `${fix.title} (line ${f.range.start.line + 1})\n${fixed}`).toEqual([]);
          const after = analyzeText(path, fixed, options);
          expect(count(after, f.code), `${fix.title} (line ${f.range.start.line + 1})`).toBeLessThan(count(before, f.code));
          // the finding it was offered on is gone (its line moved by what the fix inserted above it)
          const shift = fix.edits.filter((e) => e.range.start.line < f.range.start.line).reduce((n, e) => n + e.newText.split('\n').length - 1 - (e.range.end.line - e.range.start.line), 0);
          expect(after.some((x) => x.code === f.code && x.message === f.message && x.range.start.line === f.range.start.line + shift), `${fix.title} (line ${f.range.start.line + 1})`).toBe(false);
          titles.push(fix.title);
        }
      }
    });
  }

  it('applied fixes of every kind', () => {
    const kinds = (prefix: string) => titles.filter((t) => t.startsWith(prefix)).length;
    expect(titles.length).toBeGreaterThan(100);
    expect(kinds('Ignore')).toBeGreaterThan(60);
    expect(kinds('Replace')).toBeGreaterThan(5);
    expect({
      loops: kinds('Queue the requests in an array'),
      mmuSequences: kinds('Make these 2 mmu_update calls one batch'),
      multicalls: kinds('Make these 3 update_va_mapping calls one multicall'),
      xenInc: kinds('Add %include "xen.inc"'),
      sibling: kinds('Add %include "names.inc"'),
      stubs: kinds('Define label'),
      cpuid: kinds("Put Xen's forced-emulation prefix before cpuid"),
    }).toEqual({ loops: 8 + 4 + 1, mmuSequences: 2, multicalls: 1, xenInc: 4, sibling: 2, stubs: 4, cpuid: 1 });
  });

  it('offers the paravirtual replacements where they are well defined', () => {
    const path = join(FIXTURES, 'privileged.xasm');
    const text = readFileSync(path, 'utf8');
    const titles = analyze({ path, text, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((t) => !t.startsWith('Ignore'));
    expect(titles).toEqual([
      "Replace cli with masking events in vCPU 0's vcpu_info (shared)",
      "Replace sti with unmasking events in vCPU 0's vcpu_info (shared), then letting Xen deliver any pending one",
      'Replace hlt with sched_op(SCHEDOP_block)',
      'Replace clts with fpu_taskswitch(0)',
      'Replace invlpg with mmuext_op(MMUEXT_INVLPG_LOCAL)',
      'Remove wbinvd (a PV guest does not need it)',
      'Replace mov cr3 with mmuext_op(MMUEXT_NEW_BASEPTR)',
      'Read CR2 from vcpu_info.arch.cr2 (vCPU 0)',
      'Replace hlt with sched_op(SCHEDOP_block)',
    ]);
  });

  it('sti then hlt become one sched_op(SCHEDOP_block), which unmasks and waits in one step', () => {
    const text = ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'section .text', '_start:', '    mov ebx, shared',
      '    mov ecx, [esi + start_info.shared_info]', '    or ecx, 7', '    xor edx, edx', '    mov esi, UVMF_INVLPG', '    HYPERCALL update_va_mapping',
      '    sti', '    hlt', '    jmp $', 'align 4096, db 0', 'shared: times 4096 db 0', ''].join('\n');
    const path = '/f.xasm';
    const fixes = analyze({ path, text, provider }).findings.filter((f) => f.code === 'privileged-instruction').map((f) => f.fixes.find((x) => x.title.startsWith('Replace'))!);
    expect(fixes.map((f) => f.title)).toEqual(Array(2).fill('Replace sti; hlt with sched_op(SCHEDOP_block) (unmasks events and waits, in one step)'));
    const fixed = applyEdits(text, fixes[0].edits);
    // no unmasking of its own before the block: an event that came between would be delivered, and the block wait on
    expect(fixed).not.toMatch(/evtchn_upcall_mask/);
    expect(fixed.match(/SCHEDOP_block/g)).toHaveLength(1);
    expect(assemble({ path, text: fixed, provider }).ok).toBe(true);
    expect(analyze({ path, text: fixed, provider }).findings.filter((f) => f.code === 'privileged-instruction')).toEqual([]);
    // with a comment between them the two are replaced one by one
    const apart = analyze({ path, text: text.replace('    sti\n', '    sti\n    ; then wait\n'), provider }).findings.flatMap((f) => f.fixes.map((x) => x.title.split(' ').slice(0, 2).join(' ')));
    expect(apart.filter((t) => t.startsWith('Replace'))).toEqual(['Replace sti', 'Replace hlt']);
  });

  it("the line's comment goes above a replacement of several lines", () => {
    const text = ['bits 32', '%include "xen.inc"', 'section .text', '_start:', '    hlt                 ; wait for the tick', '    jmp $', ''].join('\n');
    const fix = analyze({ path: '/f.xasm', text, provider }).findings.flatMap((f) => f.fixes).find((x) => x.title.startsWith('Replace hlt'))!;
    const lines = applyEdits(text, fix.edits).split('\n');
    expect(lines.slice(4, 6)).toEqual(['    ; wait for the tick', '    push eax']);
    expect(lines.filter((l) => l.includes('wait for the tick'))).toHaveLength(1);
  });

  it('a shutdown does not come back: code after it (a handler it falls into) reads nothing the fix changes', () => {
    const text = ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page', 'section .text', '_start:',
      '    hlt', '    mov ebx, SCHEDOP_shutdown', '    mov ecx, reason', '    HYPERCALL sched_op', 'on_event:', '    HYPERCALL_PAGE_JMP iret',
      'align 4096, db 0', 'hypercall_page: times 4096 db 0', 'reason: dd 0', ''].join('\n');
    const titles = analyze({ path: '/f.xasm', text, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((x) => x.startsWith('Replace'));
    expect(titles).toEqual(['Replace hlt with sched_op(SCHEDOP_block)']);
  });

  it('push r ... pop r saves r: the loop fix is offered when the code after the loop only saves eax', () => {
    const text = (helper: string[]) => ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'section .text', '_start:',
      '    mov ebp, [esi + start_info.mfn_list]', '    xor edi, edi', '.fill:', '    test edi, 1', '    jnz .next', '    mov eax, [ebp + edi * 4]',
      '    shl eax, 12', '    or eax, MMU_MACHPHYS_UPDATE', '    mov [req], eax', '    mov [req + 8], edi', '    mov ebx, req', '    mov ecx, 1',
      '    xor edx, edx', '    mov esi, DOMID_SELF', '    HYPERCALL mmu_update', '.next:', '    inc edi', '    cmp edi, 8', '    jb .fill',
      '    call helper', '    jmp $', 'helper:', ...helper, '    ret', 'section .data', 'saved: dd 0', 'req: dq 0, 0', ''].join('\n');
    const offered = (t: string) => analyze({ path: '/f.xasm', text: t, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((x) => x.startsWith('Queue'));
    expect(offered(text(['    push eax', '    mov eax, [ebp]', '    mov [saved], eax', '    pop eax']))).toHaveLength(1);
    // eax read for itself (the result the old calls left in it): no fix
    expect(offered(text(['    mov [saved], eax']))).toEqual([]);
  });

  it('no cli fix inside pushf / popf (popf cannot restore the event mask the fix sets)', () => {
    const text = (body: string[]) => ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'section .text', '_start:', '    mov ebx, shared',
      '    mov ecx, [esi + start_info.shared_info]', '    or ecx, 7', '    xor edx, edx', '    mov esi, UVMF_INVLPG', '    HYPERCALL update_va_mapping',
      ...body, '    jmp $', 'align 4096, db 0', 'shared: times 4096 db 0', ''].join('\n');
    const cliFixes = (t: string) => analyze({ path: '/f.xasm', text: t, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((x) => x.startsWith('Replace cli'));
    expect(cliFixes(text(['    pushfd', '    cli', '    inc dword [shared + 64]', '    popfd']))).toEqual([]);
    expect(cliFixes(text(['    pushfd', '    cli', '    inc dword [shared + 64]', '    sti']))).toHaveLength(1);
  });

  it('offers no replacement that changes the flags where the next instructions read them', () => {
    const text = (after: string) => ['bits 32', '%include "xen.inc"', 'org 0xC0000000', 'section .text', '_start:', '    mov ebx, shared',
      '    mov ecx, [esi + start_info.shared_info]', '    or ecx, 7', '    xor edx, edx', '    mov esi, UVMF_INVLPG', '    HYPERCALL update_va_mapping',
      '    test eax, eax', '    sti', '    mov cr3, ebx', after, '    jmp $', 'align 4096, db 0', 'shared: times 4096 db 0', ''].join('\n');
    const titles = (t: string) => analyze({ path: '/f.xasm', text: t, provider }).findings.flatMap((f) => f.fixes.map((x) => x.title)).filter((x) => x.startsWith('Replace'));
    expect(titles(text('    jnz $'))).toEqual([]);
    expect(titles(text('    nop')).map((x) => x.split(' ')[1])).toEqual(['sti', 'mov']);
  });

  it('merges constant update_va_mapping calls into one multicall', () => {
    const path = join(FIXTURES, 'unbatched-sequence.xasm');
    // a second label where page_c is: the fix keeps the name the code used
    const text = readFileSync(path, 'utf8').replace('\npage_c:', '\npage_b_end:\npage_c:');
    const seq = analyze({ path, text, provider }).findings.filter((f) => f.code === 'unbatched-pt-sequence');
    const merge = seq.flatMap((f) => f.fixes).filter((f) => f.title.includes('multicall'));
    expect(merge.map((f) => f.title)).toEqual(['Make these 3 update_va_mapping calls one multicall']);
    const fixed = applyEdits(text, merge[0].edits);
    expect(fixed).toContain('HYPERCALL multicall');
    // each argument as the set-up wrote it (not the value: 0x1001, 2), addresses by the label used
    expect(fixed).toContain('dd __HYPERVISOR_update_va_mapping, 0, page_a, 0x1000 | _PAGE_PRESENT, 0, UVMF_INVLPG, 0, 0');
    expect(fixed).toContain('dd __HYPERVISOR_update_va_mapping, 0, page_c, 0x3000 | _PAGE_PRESENT, 0, UVMF_INVLPG, 0, 0');
    const r = assemble({ path, text: fixed, provider });
    expect(r.ok).toBe(true);
  });

  it('ignore fixes add to an existing ignore list', () => {
    const path = join(FIXTURES, 'suppress.xasm');
    const text = readFileSync(path, 'utf8');
    const f = analyze({ path, text, provider }).findings.find((x) => x.code === 'privileged-instruction' && text.split('\n')[x.range.start.line].includes('sensitive-instruction'))!;
    const ignore = f.fixes.find((x) => x.title.startsWith('Ignore'))!;
    const fixed = applyEdits(text, ignore.edits).split('\n')[f.range.start.line];
    expect(fixed).toContain('xenolab-ignore: sensitive-instruction, privileged-instruction');
  });
});

/** The non-ignore fix titles of a file's findings of one code, by 1-based line. */
function fixTitles(path: string, text: string, code: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of analyzeText(path, text)) {
    if (f.code !== code) continue;
    const t = f.fixes.map((x) => x.title).filter((x) => !x.startsWith('Ignore'));
    out.set(f.range.start.line + 1, [...(out.get(f.range.start.line + 1) ?? []), ...t]);
  }
  return out;
}

describe('batching fixes', () => {
  it('rewrite loops of single-entry mmu_update calls in every form, the array sized by the trip count', () => {
    const path = join(FIXTURES, 'unbatched-loop.xasm');
    const text = readFileSync(path, 'utf8');
    const queue = (n: string) => [`Queue the requests in an array (${n}) and make one mmu_update after the loop`];
    expect(Object.fromEntries(fixTitles(path, text, 'unbatched-pt-loop'))).toEqual({
      29: queue('32 entries'), // int 0x82 written out
      41: queue('16 entries'), // xen.inc's HYPERCALL
      58: [], // update_va_mapping: no array of mmu_update requests can replace it
      68: queue('8 entries'), // the user's macro
      78: queue('64 entries'), // a called function
      87: [], // a called function's update_va_mapping, on some calls only
      139: [], // update_va_mapping of a page whose address moves
      152: queue('20 entries'), // two requests per call
      162: queue('8 entries'), // on some iterations only: as many as are queued
      172: queue('2048 at a time'), // a count known only at run time
      187: queue('4 entries'), // tested at the top, after the call: once more than the loop goes round
    });
  });

  it('merge consecutive mmu_update calls in straight-line code into one batch', () => {
    const path = join(FIXTURES, 'unbatched-sequence.xasm');
    const text = readFileSync(path, 'utf8');
    expect(Object.fromEntries(fixTitles(path, text, 'unbatched-pt-sequence'))).toEqual({
      31: ['Make these 3 update_va_mapping calls one multicall'],
      57: ['Make these 2 mmu_update calls one batch'],
      72: [], // update_va_mapping with failure checks between: no multicall
      119: [], // from a macro, with a jump over its inline request between: not rewritten
      153: [], // checked to two different failure paths: one batch has one
    });
    const fix = analyzeText(path, text).find((f) => f.range.start.line === 56)!.fixes[0];
    const fixed = applyEdits(text, fix.edits);
    // one call left, checked against the count; the old checks stay (never taken now)
    expect(fixed.match(/HYPERCALL_PAGE_CALL mmu_update|HYPERCALL mmu_update/g)).toEqual(['HYPERCALL mmu_update']);
    expect(fixed).toContain('cmp [xenolab_batch_57_done], ecx');
    expect(fixed).toContain('jne fail');
    expect(fixed).toMatch(/xenolab_batch_57: resb 2 \* mmu_update_size/);
  });

  it('are not offered where queueing would change what the program does; without the hazard they are', () => {
    const path = join(FIXTURES, 'unbatched-refused.xasm');
    const text = readFileSync(path, 'utf8');
    const offered = (t: string) => [...fixTitles(path, t, 'unbatched-pt-loop'), ...fixTitles(path, t, 'unbatched-pt-sequence')].filter(([, x]) => x.length);
    expect(offered(text)).toEqual([]);
    // [the finding's line, the hazard, the same code without it]
    const controls: [string, string, string][] = [
      ['.print:\n    SET_PTE', '    HYPERCALL console_io\n', ''],
      ['mov edx, 0\n    mov esi, DOMID_SELF\n    HYPERCALL mmu_update', 'mov edx, done', 'mov edx, 0'],
      ['.two_ways:\n    SET_PTE', '    jne .elsewhere\n', ''],
      ['mov eax, __HYPERVISOR_mmu_update\n    int 0x82', '    cmp edi, 3\n    int 0x82\n', '    int 0x82\n    cmp edi, 3\n'],
      ['.foreign:\n    mov ebx, request\n    mov ecx, 1\n    xor edx, edx\n    mov esi, DOMID_SELF\n    HYPERCALL mmu_update', 'mov esi, [domain]', 'mov esi, DOMID_SELF'],
      ['.fills:\n    mov [request + mmu_update.val], edi\n    SET_PTE', 'FILL_AND_SET edi\n', 'mov [request + mmu_update.val], edi\n    SET_PTE\n'],
      ['.second:\n    SET_SECOND', 'requests + 16', 'requests'],
      ['.eax:\n    SET_PTE', '    mov [count], eax\n', ''],
      ['%rep 1\n    mov ebx, request\n    mov ecx, 1\n    xor edx, edx\n    mov esi, DOMID_SELF\n    mov eax, __HYPERVISOR_mmu_update\n    int 0x82', '%rep 2', '%rep 1'],
      ['.shared:\n    call shared_pte', '    call shared_pte\n    mov edi, 8\n', '    mov edi, 8\n'],
      ['.check:\n    SET_PTE', '.stop:\n    ud2', '.stop:\n    ret'],
      ['.writes:\n    mov [request + mmu_update.val], edi\n    SET_PTE', '    mov dword [ebp], 1\n', ''],
      ['.clears:\n    mov [request + mmu_update.val], edi\n    SET_PTE', '    rep stosd\n', '    add edi, 4096\n'],
      // a table of the program's own data is read as the loop found it
      ['.window_reads:\n    mov [request + mmu_update.val], edi\n    SET_PTE', 'mov eax, [window + edi]', 'mov eax, [requests + edi]'],
      ['.alias_reads:\n    mov [request + mmu_update.val], edi\n    SET_PTE', 'mov eax, [0xC0400000]', 'mov eax, [count]'],
      // ... and so is a .bss object smaller than a page (no window), wherever it starts
      ['.unaligned_reads:\n    mov [request + mmu_update.val], edi\n    SET_PTE', 'mov eax, [unaligned_window + edi]', 'mov eax, [bss_table + edi]'],
      ['jnz .check\n\n    ; two calls in a row, with a branch between them that is not a failure check\n    SET_PTE', '    cmp byte [flag], 0\n    jne fail\n    SET_PTE\n\n    mov ebx, SCHEDOP_shutdown', '    SET_PTE\n\n    mov ebx, SCHEDOP_shutdown'],
    ];
    for (const [where, hazard, without] of controls) {
      expect(text, hazard).toContain(hazard);
      const fixed = text.replace(hazard, without);
      expect(fixed, where).toContain(where);
      const line = fixed.slice(0, fixed.indexOf(where) + where.length).split('\n').length;
      const got = offered(fixed);
      expect(got.map(([l]) => l), `${hazard.trim()} → ${without.trim()}`).toEqual([line]);
    }
  });
});

describe('fixes for undefined names', () => {
  const path = join(FIXTURES, 'missing-names.xasm');
  const text = readFileSync(path, 'utf8');

  it('a local stub goes after its code even when padding (align) comes before the next label', () => {
    const src = ['bits 32', 'section .text', '_start:', '    cmp dword [table], 1', '    jne .missing', '    jmp $', 'align 16', 'table: dd 1', ''].join('\n');
    const fix = analyze({ path: '/s.xasm', text: src, provider }).findings.flatMap((f) => f.fixes).find((x) => x.title.startsWith('Define label'));
    expect(fix?.title).toBe("Define label '.missing' (a stub)");
    const fixed = applyEdits(src, fix!.edits).split('\n');
    expect(fixed.slice(5, 8).map((l) => l.split(':')[0].trim())).toEqual(['jmp $', '.missing', 'ud2']);
    expect(assemble({ path: '/s.xasm', text: fixed.join('\n'), provider }).ok).toBe(true);
  });

  it('include xen.inc or the sibling that defines the name, or define a stub for a jump or call target', () => {
    expect(Object.fromEntries(fixTitles(path, text, 'asm'))).toEqual({
      13: ['Add %include "xen.inc" (it defines DOMID_SELF)'],
      15: ['Add %include "xen.inc" (it defines HYPERCALL)', 'Add %include "xen.inc" (it defines mmu_update)'],
      18: ['Add %include "xen.inc" (it defines mmu_update.val)'],
      20: ['Add %include "names.inc" (it defines GUEST_PAGES)'],
      22: ['Add %include "names.inc" (it defines ZERO)'],
      24: ["Define label 'setup_traps' (a stub that returns)"],
      27: ["Define label 'panic' (a stub)"],
      30: [], // data, not code: what it should be is not known
      36: ["Define label '.missing' (a stub)"],
    });
  });

  const fixOf = (t: string, title: string): Fix => analyzeText(path, t).flatMap((f) => f.fixes).find((f) => f.title.startsWith(title))!;

  it('put %include "xen.inc" after the leading comments and bits, before other includes; another include after them', () => {
    const withInc = text.replace('bits 32\n', 'bits 32\n%include "other.inc"\n');
    const xen = applyEdits(text, fixOf(text, 'Add %include "xen.inc"').edits).split('\n');
    expect(xen.slice(3, 6)).toEqual(['bits 32', '%include "xen.inc"', 'org 0xC0000000']);
    const names = applyEdits(text, fixOf(text, 'Add %include "names.inc"').edits).split('\n');
    expect(names.slice(3, 6)).toEqual(['bits 32', '%include "names.inc"', 'org 0xC0000000']);
    const provided = { read: (p: string, from: string) => (p === 'other.inc' ? { path: '/x/other.inc', text: '; nothing\n' } : provider.read(p, from)) };
    const both = analyze({ path, text: withInc, provider: provided, includeCandidates }).findings.flatMap((f) => f.fixes);
    const inc = (title: string) => applyEdits(withInc, both.find((f) => f.title.startsWith(title))!.edits).split('\n').slice(3, 7);
    expect(inc('Add %include "xen.inc"')).toEqual(['bits 32', '%include "xen.inc"', '%include "other.inc"', 'org 0xC0000000']);
    expect(inc('Add %include "names.inc"')).toEqual(['bits 32', '%include "other.inc"', '%include "names.inc"', 'org 0xC0000000']);
  });

  it('do not include xen.inc into a file that defines one of its names itself', () => {
    const clash = text.replace('org 0xC0000000\n', 'org 0xC0000000\nPAGE_SIZE equ 4096\n');
    expect(analyzeText(path, clash).flatMap((f) => f.fixes).filter((f) => f.title.includes('xen.inc'))).toEqual([]);
  });

  it('put a local stub in the code of its label, after its last jump or return; a global one at the end, in its section', () => {
    const local = applyEdits(text, fixOf(text, "Define label '.missing'").edits).split('\n');
    const at = local.indexOf('.missing: ; TODO: xenolab stub for the jump at line 36 (ud2 faults until this is written)');
    expect(local.slice(at - 1, at + 2)).toEqual(['    ret', local[at], '    ud2']);
    const call = applyEdits(text, fixOf(text, "Define label 'setup_traps'").edits);
    expect(call.endsWith('stack_top:\n\nsection .text\nsetup_traps: ; TODO: xenolab stub for the call at line 24\n    ret\n')).toBe(true);
    // a local label whose code falls through into the next label gets none
    const falls = text.replace('    ret\n\nsection .data', '    nop\n\nsection .data');
    expect(analyzeText(path, falls).flatMap((f) => f.fixes).filter((f) => f.title.includes('.missing'))).toEqual([]);
  });
});
