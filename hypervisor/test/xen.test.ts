// Domains on the simulated Xen: the seeds boot to their transcripts, the isolation
// invariants hold after every hypercall, exceptions reach the guest's handlers through
// bounce frames, and what a guest may not do is refused.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { hypercallByName } from '../../isa/src/index.js';
import { guestImage } from '../../cli/src/run.js';
import { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP } from '../src/cpu.js';
import { hypercall } from '../src/xen/hypercalls.js';
import { DOMID_SELF, EBUSY, EFAULT, EINVAL, ENOSYS, EPERM, field, k } from '../src/xen/abi.js';
import type { Domain } from '../src/xen/domain.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { WALL_CLOCK_EPOCH } from '../src/xen/builder.js';
import { Xen } from '../src/xen/xen.js';
import { kernel, MAP_SHARED_INFO } from './guest.js';

const seeds = join(import.meta.dirname, '..', '..', 'seeds');

function boot(source: string, path = 'guest.xasm'): { xen: Xen; d: Domain; violations: string[]; symbol: (name: string) => number } {
  const r = assemble({ path, text: source, provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  // The memory `xenolab run` gives a domain by default, so transcripts match the CLI's.
  const xen = new Xen(8192);
  const built = xen.createDomain(guestImage(r.image), { name: 'test', memoryKiB: 16384 });
  if ('error' in built) throw new Error(built.error);
  const violations: string[] = [];
  // The invariants, after every hypercall.
  xen.onHypercall = (d) => violations.push(...checkInvariants(xen.mm, [d.active.baseMfn, ...d.active.gdtFrames]));
  violations.push(...checkInvariants(xen.mm, [built.domain.active.baseMfn]));
  const symbol = (name: string) => r.image.symbols.find((x) => x.name === name)!.value;
  return { xen, d: built.domain, violations, symbol };
}

describe('seeds boot to their transcripts', () => {
  const withTranscripts = readdirSync(seeds).filter((f) => f.endsWith('.xasm') && existsSync(join(seeds, f.replace(/\.xasm$/, '.console'))));
  it('every seed has a transcript', () => {
    expect(withTranscripts.sort()).toEqual(readdirSync(seeds).filter((f) => f.endsWith('.xasm')).sort());
  });
  for (const seed of withTranscripts) {
    it(`${seed}: its console, a clean poweroff, and the invariants after every hypercall`, () => {
      const path = join(seeds, seed);
      const { xen, d, violations } = boot(readFileSync(path, 'utf8'), path);
      expect(xen.run(d, 100_000_000)).toEqual({ kind: 'ended' });
      expect(d.consoleText).toBe(readFileSync(path.replace(/\.xasm$/, '.console'), 'utf8'));
      expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
      expect(violations).toEqual([]);
    });
  }

  for (const seed of withTranscripts) {
    it(`${seed}: the same on a debug-build Xen, which overwrites the argument registers a hypercall took`, () => {
      const path = join(seeds, seed);
      const { xen, d } = boot(readFileSync(path, 'utf8'), path);
      xen.clobberArguments = true;
      expect(xen.run(d, 100_000_000)).toEqual({ kind: 'ended' });
      expect(d.consoleText).toBe(readFileSync(path.replace(/\.xasm$/, '.console'), 'utf8'));
      expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
    });
  }

  for (const seed of withTranscripts) {
    it(`${seed}: hypercalls made inside compiled blocks leave the machine as the interpreter does, cycle for cycle`, () => {
      const path = join(seeds, seed);
      const runs = [false, true].map((jit) => {
        const { xen, d } = boot(readFileSync(path, 'utf8'), path);
        d.cpu.jit = jit;
        d.cpu.jitThreshold = 1;
        const stops: number[] = [];
        // Odd slices, so that budgets end everywhere: inside blocks, after hypercalls, at timers.
        while (xen.run(d, 997).kind === 'budget') stops.push(d.cpu.cycles);
        return { stops, hash: d.cpu.stateHash(), instructions: d.cpu.instructions, console: d.consoleText, state: d.state, counters: { ...d.counters, hypercalls: Array.from(d.counters.hypercalls) } };
      });
      expect(runs[1]).toEqual(runs[0]);
    });
  }

  it('pagetables: 1024 single-entry mmu_update calls, then one call of 1024, each entry validated', () => {
    const path = join(seeds, 'pagetables.xasm');
    const { xen, d } = boot(readFileSync(path, 'utf8'), path);
    xen.run(d, 10_000_000);
    // 1024 PTEs one call each, one to hook the table into the directory, one batch of 1024;
    // one update_va_mapping (the new table read-only), two mmuext_op (pin it, flush the alias).
    expect([d.counters.hypercalls[1], d.counters.hypercalls[14], d.counters.hypercalls[26]]).toEqual([1026, 1, 2]);
    expect(d.counters.ptUpdates).toBe(1024 + 1 + 1024 + 1);
  });
});

describe('the start-of-day state', () => {
  it('start_info, selectors, stack and the M2P table are where a PV guest expects them', () => {
    const { d, xen } = boot(kernel('nop'));
    const si = d.cpu.regs[ESI];

    expect(String.fromCharCode(...d.read(si, 14)!)).toBe('xen-3.0-x86_32');
    expect(d.read32(si + 32)).toBe(4096); // nr_pages
    expect(d.cpu.sregs[1]).toBe(0xe019);
    expect(d.cpu.sregs[2]).toBe(0xe021);
    expect(d.cpu.cpl).toBe(1);
    // The P2M list the guest sees and the M2P table it can read at 0xFC000000 agree.
    const mfnList = d.read32(si + 68)!;
    for (const pfn of [0, 1, 7, 4095]) {
      const mfn = d.read32(mfnList + pfn * 4)!;
      expect(mfn).toBe(d.p2m[pfn]);
      expect(d.read32(0xfc000000 + mfn * 4)).toBe(pfn);
      expect(xen.frames.owner[mfn]).toBe(d.domain);
    }
    // The bootstrap page tables are mapped read-only: a write faults.
    const ptBase = d.read32(si + 60)!;
    expect(d.write32(ptBase, 0)).toBe(false);
  });

  it('the boot area runs from the image base to a 4 MiB boundary with 512 KiB to spare: a base near the boundary needs little memory', () => {
    const source = (base: number) => {
      const r = assemble({ path: 'small.xasm', text: kernel('mov eax, 42\n    mov [answer], eax', 'answer: dd 0', base), provider: withBuiltins({ read: () => null }) });
      if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
      return { image: guestImage(r.image), answer: r.image.symbols.find((s) => s.name === 'answer')!.value };
    };
    const xen = new Xen(2048);
    // At 0xC0000000 the area reaches 0xC0400000: 4 MiB, so 1 MiB is refused.
    const low = xen.createDomain(source(0xc0000000).image, { name: 'low', memoryKiB: 1024 });
    expect(low).toEqual({ error: '1024 KiB is too little: the kernel and its boot area need 4096 KiB' });
    // Linked high without the VIRT_BASE note, it is counted from 0: the message says what is missing.
    const r = assemble({ path: 'nobase.xasm', text: 'bits 32\norg 0xC0000000\n_start: jmp _start\n', provider: { read: () => null } });
    expect(xen.createDomain(guestImage(r.image), { name: 'nobase', memoryKiB: 1024 })).toEqual({
      error: '1024 KiB is too little: the kernel and its boot area need 3149824 KiB (it has no XEN_ELFNOTE VIRT_BASE, so its addresses from 0xc0000000 count from 0: say XEN_ELFNOTE VIRT_BASE, 0xc0000000)',
    });
    // 3 MiB in, the same guest fits in 1 MiB, and runs.
    const high = source(0xc0300000);
    const built = xen.createDomain(high.image, { name: 'high', memoryKiB: 1024 });
    if ('error' in built) throw new Error(built.error);
    expect(built.layout.stackTop).toBeLessThanOrEqual(0xc0400000 - 512 * 1024);
    expect(xen.run(built.domain, 1_000_000)).toEqual({ kind: 'ended' });
    expect(built.domain.state).toEqual({ kind: 'shutdown', reason: 0 });
    expect(built.domain.read32(high.answer)).toBe(42);
    expect(checkInvariants(xen.mm, [built.domain.active.baseMfn])).toEqual([]);
  });
});

describe('exceptions go to the guest', () => {
  it('a privileged instruction in ring 1 is #GP(0) to the guest handler, with the native frame', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, traps
    HYPERCALL set_trap_table
    mov eax, 0x77
fault: cli
    jmp poweroff
gp_handler:
    pop esi                 ; error code
    pop edi                 ; EIP of the cli
    pop ebp                 ; CS
    jmp poweroff`, `traps: dd 0x0000000d | (FLAT_KERNEL_CS << 16), gp_handler
       dd 0, 0`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = d.cpu.regs;
    expect([r[ESI], r[EDI] >>> 0, r[EBP] & 0xffff]).toEqual([0, symbol('fault'), 0xe019]);
    expect(d.counters.trapsByVector.get(13)).toBe(1);
  });

  it('with no handler the domain crashes, saying what, where and why', () => {
    const { xen, d } = boot(kernel('mov eax, [0x00001000]'));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect(d.state).toEqual({ kind: 'crashed', why: 'page fault (error code 0x0) at 0xc0000000, address 0x1000 with no handler registered', eip: 0xc0000000, vcpu: 0 });
  });

  /**
   * A kernel that registers `handler` for `vector` (with `dpl`), gives ring 3 a page and
   * irets to `userCode` there. The handler pops the top three words of its frame into
   * ESI, EDI and EBP and powers off.
   */
  const toRing3 = (vector: number, dpl: number, userCode: string, setup = '', data = '') => kernel(`
    mov ebx, traps
    HYPERCALL set_trap_table
    mov ebx, FLAT_KERNEL_DS
    mov ecx, kstack_top
    HYPERCALL stack_switch
${setup}
    ; make the page holding user code and its stack accessible from ring 3
    mov esi, [esi + start_info.mfn_list]
    mov eax, user_page - 0xC0000000
    shr eax, 12
    mov eax, [esi + eax * 4]             ; its machine frame
    shl eax, 12
    or eax, 7                            ; present, writable, user
    mov ecx, eax
    mov ebx, user_page
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    test eax, eax
    jnz poweroff
    push dword FLAT_USER_SS
    push dword user_page + 4096
    push dword 0x202
    push dword FLAT_USER_CS
    push dword user_code
    iret
handler:
    pop esi
    pop edi
    pop ebp
    jmp poweroff
align 4096, db 0
user_page:
user_code:
${userCode}
    jmp $
align 4096, db 0`, `traps: db ${vector}, ${dpl}
       dw FLAT_KERNEL_CS
       dd handler
       dd 0, 0
       times 1024 dd 0
kstack_top:
${data}`);

  it.each([['the interpreter', 1e9], ['a compiled block', 1]])('a hypercall from ring 3 is refused (#GP through the hypercall gate, in %s) and the kernel handles it on its own stack', (_, threshold) => {
    const { xen, d, violations, symbol } = boot(toRing3(13, 0, '    mov eax, __HYPERVISOR_console_io\n    int 0x82'));
    d.cpu.jitThreshold = threshold;
    expect(xen.run(d, 1_000_000)).toEqual({ kind: 'ended' });
    const r = d.cpu.regs;
    expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
    // error code, EIP of the int, CS of ring 3
    expect([r[ESI], r[EDI] >>> 0, r[EBP] & 0xffff]).toEqual([(0x82 << 3) | 2, symbol('user_code') + 5, 0xe02b]);
    expect(d.counters.hypercalls[18]).toBe(0); // the console_io never happened
    expect(violations).toEqual([]);
  });

  it('rep ins/outs are emulated under the virtual IOPL, in both directions, a bounded batch at a time; a faulting element leaves the #GP', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, traps
    HYPERCALL set_trap_table
    mov dx, 0x80
    mov edi, buf
    mov ecx, 3
    rep insb                             ; #GP: the virtual IOPL is 0
    mov [r_ecx0], ecx
    mov ebx, PHYSDEVOP_set_iopl
    mov ecx, one
    HYPERCALL physdev_op
    cld
    mov edi, buf
    mov ecx, 10000                       ; more than one batch: the instruction goes on
    rep insb
    mov [r_edi1], edi
    mov [r_ecx1], ecx
    mov esi, buf
    mov ecx, 3
    rep outsd
    mov [r_esi2], esi
    std
    mov edi, buf2 + 6
    mov ecx, 4
    rep insw                             ; downwards: buf2 + 6, + 4, + 2, + 0
    cld
    mov [r_edi3], edi
    mov edi, buf2 + 16
    insd                                 ; one element, no rep
    mov [r_edi4], edi
    mov edi, 0xFC000000                  ; the hypervisor's: the element faults, so #GP
    mov ecx, 2
    rep insb
    mov [r_ecx5], ecx
    jmp poweroff
gp_handler:
    inc dword [gp_count]
    add esp, 4                           ; the error code
    add dword [esp], 2                   ; past the rep ins (f3 6c)
    iret`, `traps: db 13, 0
       dw FLAT_KERNEL_CS
       dd gp_handler
       dd 0, 0
one: dd 1
gp_count: dd 0
r_ecx0: dd 0
r_edi1: dd 0
r_ecx1: dd 1
r_esi2: dd 0
r_edi3: dd 0
r_edi4: dd 0
r_ecx5: dd 0
buf: times 10240 db 0
buf2: times 32 db 0`));
    expect(xen.run(d, 10_000_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name))!;
    const buf = symbol('buf'), buf2 = symbol('buf2');
    expect(r('gp_count')).toBe(2);
    expect([r('r_ecx0'), r('r_ecx5')]).toEqual([3, 2]); // refused whole: nothing moved
    expect([r('r_edi1') - buf, r('r_ecx1')]).toEqual([10000, 0]);
    expect(Array.from(d.read(buf, 10001)!).filter((b) => b === 0xff).length).toBe(10000);
    expect(r('r_esi2') - buf).toBe(12);
    expect([r('r_edi3') - buf2, Array.from(d.read(buf2, 8)!)]).toEqual([-2, new Array(8).fill(0xff)]);
    expect([r('r_edi4') - buf2, d.read32(buf2 + 16)]).toEqual([20, 0xffffffff]);
    expect(d.counters.transitions).toBeGreaterThan(3); // 10000 elements took three emulations
  });

  it("in/out from ring 3 are emulated for the ports the kernel's I/O bitmap allows, #GP for the others", () => {
    const setup = `
    push esi
    mov ebx, PHYSDEVOP_set_iopl
    mov ecx, iopl
    HYPERCALL physdev_op                 ; IOPL 1: enough for ring 1, not for ring 3
    mov ebx, PHYSDEVOP_set_iobitmap
    mov ecx, iobitmap
    HYPERCALL physdev_op
    pop esi`;
    const data = `iopl: dd 1
iobitmap: dd bitmap, 128
bitmap: times 14 db 0xff
        db 0xfe                          ; port 0x70 allowed
        db 0xff`;
    const user = '    xor eax, eax\n    in al, 0x70\n    mov [user_page + 0x800], eax\n    in al, 0x71';
    const { xen, d, symbol } = boot(toRing3(13, 0, user, setup, data));
    expect(xen.run(d, 1_000_000)).toEqual({ kind: 'ended' });
    const r = d.cpu.regs;
    expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
    // the first read all ones; #GP(0) at the second in (EIP of the instruction)
    expect(d.read32(symbol('user_page') + 0x800)).toBe(0xff);
    expect([r[ESI], r[EDI] >>> 0]).toEqual([0, symbol('user_code') + 9]);
  });

  it("int 0x80 from ring 3 goes straight to the kernel's handler (the fast system-call path), with no hypervisor transition", () => {
    const { xen, d, violations, symbol } = boot(toRing3(0x80, 3, '    mov eax, 42\n    int 0x80'));
    expect(xen.run(d, 1_000_000)).toEqual({ kind: 'ended' });
    const r = d.cpu.regs;
    expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
    // no error code for int n: EIP after the int, CS of ring 3, EFLAGS with the virtual IF
    // (events are still masked from boot)
    expect([r[ESI] >>> 0, r[EDI] & 0xffff, r[EBP] & 0x200]).toEqual([symbol('user_code') + 7, 0xe02b, 0]);
    expect(d.counters.trapsByVector.get(0x80)).toBe(1);
    const hypercalls = d.counters.hypercalls.reduce((a, b) => a + b, 0);
    expect(d.counters.transitions).toBe(hypercalls); // only the hypercalls entered Xen
    expect(violations).toEqual([]);
  });
});

describe('privileged instructions Xen emulates in ring 1, and the rest', () => {
  it('reading CR0 and CR3 gives the virtual values; loading CR3 is validated like NEW_BASEPTR', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov eax, cr0
    mov [cr0_seen], eax
    mov eax, cr3
    mov [cr3_seen], eax
    mov cr3, eax                         ; the same directory again: allowed
    clts
    mov ebx, [bad_cr3]
    mov cr3, ebx                         ; not a page directory: #GP, and no handler`, 'cr0_seen: dd 0\ncr3_seen: dd 0\nbad_cr3: dd 0'));
    // a frame of the domain in use as an ordinary writable page

    const writable = d.p2m[(symbol('cr0_seen') - 0xc0000000) >>> 12];
    expect(d.write32(symbol('bad_cr3'), writable * 4096)).toBe(true);
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect((d.read32(symbol('cr0_seen'))! & 0x80010001) >>> 0).toBe(0x80010001); // PG, WP, PE
    expect(d.read32(symbol('cr3_seen'))).toBe(d.active.baseMfn * 4096);
    expect(d.state).toMatchObject({ kind: 'crashed', why: expect.stringMatching(/^general protection fault \(error code 0x0\)/) });
    expect(xen.frames.type[writable]).not.toBe(2);

  });
});

describe("Xen's forced-emulation prefix", () => {
  it('runs the cpuid after it (XEN_CPUID) and goes on; a ud2 without it is the guest\'s #UD', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov eax, 0x40000000
    XEN_CPUID
    mov [leaf_ebx], ebx
    ud2                                  ; no prefix: #UD, and no handler
    db 'xen'
    nop`, 'leaf_ebx: dd 0'));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect(d.read32(symbol('leaf_ebx'))).toBe(0x566e6558); // "XenV"
    expect(d.state).toMatchObject({ kind: 'crashed', why: expect.stringMatching(/invalid opcode/) });
  });
});

describe('writable page tables (vm_assist)', () => {
  const guest = (enable: boolean) => kernel(`
    mov [sinfo], esi
${enable ? '    mov ebx, VMASST_CMD_enable\n    mov ecx, VMASST_TYPE_writable_pagetables\n    HYPERCALL vm_assist' : ''}
    mov esi, [sinfo]
    mov ebx, [esi + start_info.pt_base]
    add ebx, 4096                        ; the first page table, mapped read-only
    mov edx, [esi + start_info.mfn_list]
    mov eax, [edx]                       ; machine frame of pseudo-physical frame 0
    shl eax, 12
    or eax, _PAGE_PRESENT | _PAGE_ACCESSED
    mov [ebx + 1023 * 4], eax            ; a direct store into a page table
    mov ebx, flush
    mov ecx, 1
    xor edx, edx
    mov esi, DOMID_SELF
    HYPERCALL mmuext_op
    mov eax, [0xC03FF000]                ; now an alias of the kernel's first page
    cmp eax, [0xC0000000]
    jne poweroff
    mov dword [aliased], 1
    mov esi, [sinfo]
    mov ebx, [esi + start_info.pt_base]
    mov eax, [esi + start_info.mfn_list]
    sub ebx, 0xC0000000 - 4096
    shr ebx, 12
    mov eax, [eax + ebx * 4]             ; the page table's own frame...
    shl eax, 12
    or eax, _PAGE_PRESENT | _PAGE_RW     ; ...mapped writable: refused, so the fault stands
    mov ebx, [esi + start_info.pt_base]
    add ebx, 4096
bad: mov [ebx + 1022 * 4], eax`, `sinfo: dd 0
aliased: dd 0
flush: dd MMUEXT_INVLPG_LOCAL, 0xC03FF000, 0`);

  it('with the assist, a valid direct store into a page table is emulated; an invalid one stays a #PF', () => {
    const src = guest(true);
    const { xen, d, symbol, violations } = boot(src);
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect(d.read32(symbol('aliased'))).toBe(1);
    expect(d.state).toMatchObject({ kind: 'crashed', eip: symbol('bad') });
    expect((d.state as { why: string }).why).toMatch(/^page fault \(error code 0x3\)/);
    expect(violations).toEqual([]);
    expect(checkInvariants(xen.mm, [d.active.baseMfn])).toEqual([]);
  });

  it('without it, the first direct store is a #PF', () => {
    const { xen, d } = boot(guest(false));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect(d.state).toMatchObject({ kind: 'crashed', why: expect.stringMatching(/^page fault \(error code 0x3\)/) });
  });
});

describe('descriptor tables', () => {
  it('set_gdt types read-only frames as descriptor pages and checks every descriptor; update_descriptor checks one', () => {
    const { xen, d, symbol, violations } = boot(kernel(`
    ; descriptors first, while the page is still writable
    mov dword [gdt + 8], 0x0000ffff      ; 1: ring-1 code, base 0, limit 0xfbfff pages (below the hole)
    mov dword [gdt + 12], 0x00cbba00
    mov dword [gdt + 16], 0x0000ffff     ; 2: ring-0 data: Xen makes it ring 1
    mov dword [gdt + 20], 0x00cb9200
    mov ebx, list
    mov ecx, 4
    HYPERCALL set_gdt                    ; still mapped writable: refused
    mov [r_writable], eax
    mov esi, [esi + start_info.mfn_list]
    mov eax, gdt - 0xC0000000
    shr eax, 12
    mov eax, [esi + eax * 4]
    mov [list], eax
    mov [gdt_mfn], eax
    shl eax, 12
    or eax, 0x21                         ; present, accessed: read-only
    mov ecx, eax
    mov ebx, gdt
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    mov ebx, list
    mov ecx, 4
    HYPERCALL set_gdt
    mov [r_ok], eax
    mov ebx, [gdt_mfn]
    shl ebx, 12
    add ebx, 24                          ; entry 3
    xor ecx, ecx
    mov edx, 0x0000ffff
    mov esi, 0x00cff200                  ; a flat 4 GiB data segment reaches into the hole
    HYPERCALL update_descriptor
    mov [r_hole], eax
    mov ebx, [gdt_mfn]
    shl ebx, 12
    add ebx, 24
    xor ecx, ecx
    mov edx, 0x00080000
    mov esi, 0x0000ec00                  ; a call gate: a system descriptor
    HYPERCALL update_descriptor
    mov [r_gate], eax
    mov ebx, [gdt_mfn]
    shl ebx, 12
    add ebx, 24
    xor ecx, ecx
    mov edx, 0x0000ffff
    mov esi, 0x00cbb200
    HYPERCALL update_descriptor
    mov [r_update], eax
    mov eax, [gdt_mfn]
    shl eax, 12
    or eax, 0x23                         ; and now writable: refused, it is a descriptor page
    mov ecx, eax
    mov ebx, gdt
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    mov [r_rw], eax
    jmp poweroff
align 4096, db 0
gdt: times 4096 db 0`, 'list: dd 0\ngdt_mfn: dd 0\nr_writable: dd 1\nr_ok: dd 1\nr_hole: dd 1\nr_gate: dd 1\nr_update: dd 1\nr_rw: dd 1'));
    // the frame holding `gdt` goes in the list first, while it is mapped writable
    expect(d.write32(symbol('list'), d.p2m[(symbol('gdt') - 0xc0000000) >>> 12])).toBe(true);
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name))! | 0;
    expect([r('r_writable'), r('r_ok'), r('r_hole'), r('r_gate'), r('r_update'), r('r_rw')]).toEqual([EINVAL, 0, EINVAL, EINVAL, 0, EBUSY]);
    const mfn = d.active.gdtFrames[0];
    expect(xen.frames.type[mfn]).toBe(5);
    expect(xen.mem.read32(mfn * 4096 + 20) & (3 << 13)).toBe(1 << 13); // the ring-0 descriptor, now ring 1
    expect(xen.mem.read32(mfn * 4096 + 28)).toBe(0x00cbb200);
    expect(violations).toEqual([]);
  });
});

describe('more hypercalls, positive and negative', () => {
  it('a debug-build Xen overwrites the argument registers a hypercall took (not the others, nor after -ENOSYS); a release build keeps them', () => {
    const source = kernel(`
    mov ebx, XENVER_version
    xor ecx, ecx
    mov edx, 0x1234
    mov esi, 0x5678
    HYPERCALL xen_version                ; two arguments: ebx, ecx
    mov [after_version], ebx
    mov [after_version + 4], ecx
    mov [after_version + 8], edx
    mov [after_version + 12], esi
    mov ebx, 0x1111
    mov eax, 63                          ; no hypercall: -ENOSYS
    int 0x82
    mov [after_enosys], ebx`, 'after_version: dd 0, 0, 0, 0\nafter_enosys: dd 0');
    const regs = (clobber: boolean) => {
      const { xen, d, symbol } = boot(source);
      xen.clobberArguments = clobber;
      expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
      return [0, 4, 8, 12].map((o) => d.read32(symbol('after_version') + o)).concat(d.read32(symbol('after_enosys')));
    };
    expect(regs(true)).toEqual([0xdeadf00d, 0xdeadf00d, 0x1234, 0x5678, 0x1111]);
    expect(regs(false)).toEqual([k('XENVER_version'), 0, 0x1234, 0x5678, 0x1111]);
  });

  it('multicall runs every entry (a failing one does not stop it), refuses a nested multicall, and stores each result', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, calls
    mov ecx, 4
    HYPERCALL multicall
    mov [r_multi], eax`, `calls:
    dd __HYPERVISOR_xen_version, 0x11111111, XENVER_version, 0, 0, 0, 0, 0
    dd __HYPERVISOR_console_io, 0x11111111, 99, 0, 0, 0, 0, 0
    dd __HYPERVISOR_multicall, 0x11111111, 0, 0, 0, 0, 0, 0
    dd __HYPERVISOR_fpu_taskswitch, 0x11111111, 1, 0, 0, 0, 0, 0
r_multi: dd 1`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const results = [0, 1, 2, 3].map((i) => d.read32(symbol('calls') + 32 * i + 4)! | 0);
    expect(results).toEqual([(3 << 16) | 0, EINVAL, EINVAL, 0]);
    expect(d.read32(symbol('r_multi'))).toBe(0);
    expect(d.active.fpuTaskSwitched).toBe(true);
  });

  it("iret's result is the EAX it restored, as Xen's do_iret returns it (so a multicall stores that)", () => {
    const { xen, d, symbol } = boot(kernel('nop', 'frame: dd 0x12345678, 0, 0, 0x202\ncalls: dd __HYPERVISOR_iret, 0x11111111, 0, 0, 0, 0, 0, 0'));
    const frame = symbol('frame'), back = symbol('calls');
    expect(d.write32(frame + 4, back) && d.write32(frame + 8, d.cpu.sregs[1])).toBe(true);
    const results: number[] = [];
    d.cpu.regs[ESP] = frame;
    d.cpu.regs[EAX] = hypercallByName('iret')!.number;
    hypercall(xen, d, (_d, _n, _args, result) => results.push(result));
    expect([d.cpu.regs[EAX], d.cpu.eip, d.cpu.regs[ESP] >>> 0]).toEqual([0x12345678, back, frame + 16]);
    expect(results).toEqual([0x12345678]);
    d.cpu.regs[ESP] = frame;
    [d.cpu.regs[EAX], d.cpu.regs[EBX], d.cpu.regs[ECX]] = [hypercallByName('multicall')!.number, back, 1];
    hypercall(xen, d);
    expect([d.read32(back + 4), d.cpu.regs[EAX], d.cpu.eip]).toEqual([0x12345678, 0, back]);
  });

  it('set_trap_table gives up on a table with no end (EINVAL) instead of reading forever', () => {
    const { d, symbol, xen } = boot(kernel('nop', 'table: times 5000 dd 0x0000e019, 0x1234'));
    d.cpu.regs[EAX] = 0;
    d.cpu.regs[EBX] = symbol('table');
    hypercall(xen, d);
    expect(d.cpu.regs[EAX]).toBe(EINVAL);
  });

  it('xen_version reports the page size and the feature submap; MMUEXT_SET_LDT checks its arguments', () => {
    const { d, symbol, xen } = boot(kernel('nop', 'info: dd 0, 0xffffffff\nldt: dd MMUEXT_SET_LDT, 0xC0001000, 8192, MMUEXT_SET_LDT, 0xC0001004, 1, MMUEXT_SET_LDT, 0xFBFFF000, 1024'));
    const call = (n: number, ...args: number[]) => {
      d.cpu.regs[EAX] = n;
      [EBX, ECX, EDX, ESI].forEach((r, i) => (d.cpu.regs[r] = args[i] ?? 0));
      hypercall(xen, d);
      return d.cpu.regs[EAX];
    };
    expect(call(17, 7)).toBe(4096); // XENVER_pagesize
    expect(call(17, 6, symbol('info'))).toBe(0); // XENVER_get_features, submap 0
    expect(d.read32(symbol('info') + 4)).toBe(1 << 5); // XENFEAT_mmu_pt_update_preserve_ad
    const ldt = symbol('ldt');
    expect([call(26, ldt, 1, 0, 0x7ff0), call(26, ldt + 12, 1, 0, 0x7ff0), call(26, ldt + 24, 1, 0, 0x7ff0)]).toEqual([0, EINVAL, EINVAL]);
  });

  it('set_trap_table with a bad pointer is EFAULT; xen_version copies strings out', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, 0x1000
    HYPERCALL set_trap_table
    mov [r_bad], eax
    mov ebx, XENVER_capabilities
    mov ecx, caps
    HYPERCALL xen_version
    mov [r_caps], eax`, 'r_bad: dd 1\nr_caps: dd 1\ncaps: times 1024 db 0xff'));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect([d.read32(symbol('r_bad'))! | 0, d.read32(symbol('r_caps'))]).toEqual([EFAULT, 0]);
    expect(String.fromCharCode(...d.read(symbol('caps'), 15)!)).toBe('xen-3.0-x86_32\0');
  });

  it('event channels between two domains: alloc_unbound, bind_interdomain, send, status, close', () => {
    // One guest image, two domains: the first offers a port to the second, which binds it and sends.
    const source = kernel(`
    cmp dword [role], 1
    je .connect
    mov ebx, EVTCHNOP_alloc_unbound
    mov ecx, unbound
    HYPERCALL event_channel_op
    mov [r1], eax
    jmp poweroff
.connect:
    mov ebx, EVTCHNOP_bind_interdomain
    mov ecx, interdomain
    HYPERCALL event_channel_op
    mov [r1], eax
    mov eax, [interdomain + evtchn_bind_interdomain.local_port]
    mov [send], eax
    mov [status + evtchn_status.port], eax
    mov ebx, EVTCHNOP_send
    mov ecx, send
    HYPERCALL event_channel_op
    mov [r2], eax
    mov ebx, EVTCHNOP_status
    mov ecx, status
    HYPERCALL event_channel_op
    mov [r3], eax
    mov ebx, EVTCHNOP_close
    mov ecx, send
    HYPERCALL event_channel_op
    mov [r4], eax
    mov ebx, EVTCHNOP_send               ; closed now
    mov ecx, send
    HYPERCALL event_channel_op
    mov [r5], eax`, `role: dd 0
unbound: dw DOMID_SELF, 2
         dd 0
interdomain: dw 1, 0
         dd 0, 0
send: dd 0
status: dw DOMID_SELF, 0
        dd 0, 0, 0, 0, 0
r1: dd 1
r2: dd 1
r3: dd 1
r4: dd 1
r5: dd 1`);
    const r = assemble({ path: 'e.xasm', text: source, provider: withBuiltins({ read: () => null }) });
    const sym = (n: string) => r.image.symbols.find((x) => x.name === n)!.value;
    const xen = new Xen(8192);
    const a = xen.createDomain(guestImage(r.image), { name: 'a', memoryKiB: 8192 });
    const b = xen.createDomain(guestImage(r.image), { name: 'b', memoryKiB: 8192 });
    if ('error' in a || 'error' in b) throw new Error('build');
    expect(xen.run(a.domain, 100_000)).toEqual({ kind: 'ended' });
    const offered = a.domain.read32(sym('unbound') + 4)!;
    expect([a.domain.read32(sym('r1')), offered > 0]).toEqual([0, true]);
    expect(b.domain.write32(sym('role'), 1)).toBe(true);
    expect(b.domain.write32(sym('interdomain') + 4, offered)).toBe(true);
    expect(xen.run(b.domain, 100_000)).toEqual({ kind: 'ended' });
    const res = ['r1', 'r2', 'r3', 'r4', 'r5'].map((n) => b.domain.read32(sym(n))! | 0);
    expect(res).toEqual([0, 0, 0, 0, EINVAL]);
    expect(b.domain.read32(sym('status') + 8)).toBe(2); // EVTCHNSTAT_interdomain
    expect(a.domain.events.isPending(offered)).toBe(true); // the send reached the other domain
    expect(a.domain.events.port(offered)).toEqual({ kind: 'unbound', remoteDom: 2 }); // back to unbound after the close
  });
});

describe('memory_op (ballooning)', () => {
  it('a domain gives back frames it does not use, never one Xen or dom0 uses for it, and takes frames back up to its maximum', () => {
    const { xen, d, symbol } = boot(kernel('nop', 'res: times 5 dd 0\nlist: times 4 dd 0'));
    const res = symbol('res'), list = symbol('list');
    const memoryOp = (cmd: number, extents: number[]) => {
      extents.forEach((m, i) => d.write32(list + 4 * i, m));
      d.write32(res + field('xen_memory_reservation', 'extent_start'), list);
      d.write32(res + field('xen_memory_reservation', 'nr_extents'), extents.length);
      d.write32(res + field('xen_memory_reservation', 'extent_order'), 0);
      d.write32(res + field('xen_memory_reservation', 'domid'), DOMID_SELF);
      const r = d.cpu.regs;
      [r[EAX], r[EBX], r[ECX]] = [hypercallByName('memory_op')!.number, cmd, res];
      hypercall(xen, d);
      return r[EAX] | 0;
    };
    const [DECREASE, INCREASE] = [k('XENMEM_decrease_reservation'), k('XENMEM_increase_reservation')];
    const unused = d.p2m[d.p2m.length - 1]; // beyond the boot area: mapped nowhere
    // The guest unmaps its rings, so that only dom0's use of them could keep them.
    for (const mfn of d.ringFrames) {
      const r = d.cpu.regs;
      [r[EAX], r[EBX], r[ECX], r[EDX], r[ESI]] = [hypercallByName('update_va_mapping')!.number, 0xc0000000 + xen.frames.m2p[mfn] * 4096, 0, 0, 2];
      hypercall(xen, d);
      expect(r[EAX]).toBe(0);
      expect(xen.frames.refs[mfn]).toBe(1);
    }
    const pages = d.pages;
    // The batch stops at the first frame that may not go: here the xenstore ring, which dom0 uses.
    expect(memoryOp(DECREASE, [unused, d.ringFrames[0]])).toBe(1);
    expect([xen.frames.owner[unused], d.pages]).toEqual([-1, pages - 1]);
    for (const kept of [d.ringFrames[0], d.ringFrames[1], d.sharedInfoMfn, d.p2m[0]]) {
      expect(memoryOp(DECREASE, [kept])).toBe(0);
      expect(xen.frames.owner[kept]).toBe(d.domain);
    }
    // Back up to its maximum: one frame, not two.
    expect(memoryOp(INCREASE, [0, 0])).toBe(1);
    expect([xen.frames.owner[d.read32(list)!], d.pages]).toEqual([d.domain, pages]);
    expect(checkInvariants(xen.mm, d.tablesHeld)).toEqual([]);
  });
});

describe('isolation between domains', () => {
  it("a domain cannot map another domain's frame (EBUSY), and the other is unharmed", () => {
    const attacker = kernel(`
    mov eax, [esi + start_info.pt_base]  ; our page directory's virtual address
    mov ebx, [esi + start_info.mfn_list]
    sub eax, 0xC0000000
    shr eax, 12
    mov eax, [ebx + eax * 4]             ; ... its machine frame
    shl eax, 12
    add eax, 4 * 1                       ; entry 1 of the directory: a fresh 4 MiB slot (below our base)
    mov [req], eax
    mov eax, [target]
    shl eax, 12
    or eax, 7
    mov [req + 8], eax                   ; map the victim's frame as a page table
    mov ebx, req
    mov ecx, 1
    mov edx, done
    mov esi, DOMID_SELF
    HYPERCALL mmu_update
    mov [result], eax`, 'req: dd 0, 0, 0, 0\ndone: dd 99\nresult: dd 0\ntarget: dd 0');
    const r = assemble({ path: 'a.xasm', text: attacker, provider: withBuiltins({ read: () => null }) });
    const xen = new Xen(8192);
    const victim = xen.createDomain(guestImage(r.image), { name: 'victim', memoryKiB: 8192 });
    const bad = xen.createDomain(guestImage(r.image), { name: 'attacker', memoryKiB: 8192 });
    if ('error' in victim || 'error' in bad) throw new Error('build');
    const sym = (n: string) => r.image.symbols.find((x) => x.name === n)!.value;
    const stolen = victim.domain.p2m[5];
    expect(bad.domain.write32(sym('target'), stolen)).toBe(true);
    const before = [xen.frames.refs[stolen], xen.frames.typeRefs[stolen], xen.frames.type[stolen]];
    expect(xen.run(bad.domain, 100_000)).toEqual({ kind: 'ended' });
    expect([bad.domain.read32(sym('result')), bad.domain.read32(sym('done'))]).toEqual([EINVAL >>> 0, 0]);
    expect([xen.frames.refs[stolen], xen.frames.typeRefs[stolen], xen.frames.type[stolen]]).toEqual(before);
    expect(checkInvariants(xen.mm, [victim.domain.active.baseMfn, bad.domain.active.baseMfn])).toEqual([]);
  });
});

describe('events and time', () => {
  it('VIRQ_TIMER wakes a blocked guest through its event callback, three times', () => {
    const { xen, d, violations } = boot(kernel(`${MAP_SHARED_INFO}
    test eax, eax
    jnz poweroff
    mov ebx, FLAT_KERNEL_CS
    mov ecx, on_event
    mov edx, FLAT_KERNEL_CS
    mov esi, on_event
    HYPERCALL set_callbacks
    mov ebx, EVTCHNOP_bind_virq
    mov ecx, bind
    HYPERCALL event_channel_op
    test eax, eax
    jnz poweroff
tick:
    mov ebx, [shared + shared_info.vcpu_info + vcpu_info.time + vcpu_time_info.system_time]
    add ebx, 100000                      ; 100 us from now
    xor ecx, ecx
    HYPERCALL set_timer_op
    mov ebx, SCHEDOP_block
    xor ecx, ecx
    HYPERCALL sched_op                   ; enables events and sleeps until one comes
    cmp dword [ticks], 3
    jb tick
    mov ebx, CONSOLEIO_write
    mov ecx, 8
    mov edx, msg
    HYPERCALL console_io
    jmp poweroff
on_event:
    mov byte [shared + vcpu_info.evtchn_upcall_pending], 0
    mov dword [shared + vcpu_info.evtchn_pending_sel], 0
    mov dword [shared + shared_info.evtchn_pending], 0
    inc dword [ticks]
    HYPERCALL_PAGE_JMP iret              ; back, re-enabling events with the frame's IF
align 4096, db 0
shared: times 4096 db 0`, `bind: dd VIRQ_TIMER, 0, 0
ticks: dd 0
msg: db "3 ticks", 10`));
    expect(xen.run(d, 10_000_000)).toEqual({ kind: 'ended' });
    expect(d.consoleText).toBe('3 ticks\n');
    expect(d.counters.eventsDelivered).toBe(3);
    // Blocked time passes: three 100 us sleeps are at least 300,000 cycles of virtual time.
    expect(d.cpu.cycles).toBeGreaterThan(300_000);
    expect(d.cpu.instructions).toBeLessThan(1000);
    expect(violations).toEqual([]);
  });

  it('SCHEDOP_poll waits for one of its ports or its timeout, with events masked', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, EVTCHNOP_bind_ipi
    mov ecx, ipi
    HYPERCALL event_channel_op
    mov eax, [ipi + evtchn_bind_ipi.port]
    mov [port], eax
    mov ebx, SCHEDOP_poll                ; nothing pending: sleeps until the timeout
    mov ecx, poll
    HYPERCALL sched_op
    mov [r1], eax
    rdtsc
    mov [t1], eax
    mov ebx, EVTCHNOP_send               ; now the port is pending
    mov ecx, port
    HYPERCALL event_channel_op
    mov dword [poll + sched_poll.timeout], 0
    mov ebx, SCHEDOP_poll                ; returns at once
    mov ecx, poll
    HYPERCALL sched_op
    mov [r2], eax`, `ipi: dd 0, 0
port: dd 0
poll: dd port, 1, 200000, 0            ; ports, nr_ports, timeout (ns)
r1: dd 1
r2: dd 1
t1: dd 0`));
    expect(xen.run(d, 10_000_000)).toEqual({ kind: 'ended' });
    expect([d.read32(symbol('r1')), d.read32(symbol('r2'))]).toEqual([0, 0]);
    expect(d.read32(symbol('t1'))).toBeGreaterThanOrEqual(200_000); // time passed in the poll
    expect(d.cpu.cycles).toBeLessThan(210_000 + 10 * 500);
  });

  it('host input reaches console_io reads, the console ring and VIRQ_CONSOLE; the wall clock is fixed', () => {
    const { xen, d, symbol } = boot(kernel(`${MAP_SHARED_INFO}
    mov eax, [shared + shared_info.wc_sec]
    mov [wall], eax
    mov ebx, EVTCHNOP_bind_virq
    mov ecx, bind
    HYPERCALL event_channel_op
    mov ebx, SCHEDOP_poll                ; wait for the console VIRQ (events stay masked)
    mov ecx, poll
    HYPERCALL sched_op
    mov ebx, CONSOLEIO_read
    mov ecx, 16
    mov edx, got
    HYPERCALL console_io
    mov [n], eax
    jmp poweroff
align 4096, db 0
shared: times 4096 db 0`, `bind: dd VIRQ_CONSOLE, 0, 0
poll: dd bind + 8, 1, 0, 0
wall: dd 0
n: dd 0
got: times 16 db 0`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'idle' }); // polling, and nothing typed yet
    xen.input(d, 'hi!');
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    expect(d.read32(symbol('n'))).toBe(3);
    expect(String.fromCharCode(...d.read(symbol('got'), 3)!)).toBe('hi!');
    expect(d.read32(symbol('wall'))).toBe(WALL_CLOCK_EPOCH);
  });

  it('a domain blocked with nothing to wake it is idle, not spinning', () => {
    const { xen, d } = boot(kernel('mov ebx, SCHEDOP_block\n    xor ecx, ecx\n    HYPERCALL sched_op'));
    expect(xen.run(d, 1_000_000)).toEqual({ kind: 'idle' });
  });
});

describe('hypercalls', () => {
  it('a batch whose requests run into an unmapped page stops there: EFAULT, and done counts the ones before', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov eax, [esi + start_info.mfn_list]
    mov eax, [eax]                       ; frame of pseudo-physical page 0
    shl eax, 12
    or eax, MMU_MACHPHYS_UPDATE
    mov [request], eax                   ; M2P[that frame] := 0, as it is
    mov ebx, unmapped
    xor ecx, ecx
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    mov [r_unmap], eax
    mov ebx, request
    mov ecx, 2
    mov edx, done
    mov esi, DOMID_SELF
    HYPERCALL mmu_update
    mov [r_batch], eax`, `r_unmap: dd 1
r_batch: dd 0
done: dd 99
align 4096, db 0
    times 4096 - 16 db 0
request: dd 0, 0, 0, 0
unmapped: times 4096 db 0`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name));
    expect([r('r_unmap'), r('r_batch'), r('done')]).toEqual([0, EFAULT >>> 0, 1]);
    expect(d.counters.ptUpdates).toBe(2); // the unmapping, and the batch's first request
  });

  it("physdev_op: a domain without devices may set its IOPL and I/O bitmap; IRQ and device operations get Xen's errors", () => {
    const { xen, d, symbol } = boot(kernel(`
%macro PHYSDEV 2                         ; command, argument -> result at r_%1
    mov ebx, PHYSDEVOP_%1
    mov ecx, %2
    HYPERCALL physdev_op
    mov [r_%1], eax
%endmacro
    PHYSDEV set_iopl, four
    mov [r_iopl4], eax
    PHYSDEV irq_status_query, query
    PHYSDEV eoi, query
    PHYSDEV map_pirq, query
    PHYSDEV apic_read, query
    PHYSDEV set_iobitmap, huge_bitmap
    mov ebx, PHYSDEVOP_irq_status_query
    mov ecx, query_big
    HYPERCALL physdev_op
    mov [r_query_big], eax
    mov ebx, PHYSDEVOP_set_iopl
    mov ecx, 0x00002000                  ; not mapped
    HYPERCALL physdev_op
    mov [r_fault], eax`, `four: dd 4
query: dd 3, 0xffffffff
query_big: dd 48, 0
huge_bitmap: dd 0, 65537
r_set_iopl: dd 1
r_iopl4: dd 1
r_irq_status_query: dd 1
r_eoi: dd 1
r_map_pirq: dd 1
r_apic_read: dd 1
r_set_iobitmap: dd 1
r_query_big: dd 1
r_fault: dd 1`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name))! | 0;
    expect([r('r_iopl4'), r('r_irq_status_query'), r('r_eoi'), r('r_map_pirq'), r('r_apic_read'), r('r_set_iobitmap'), r('r_query_big'), r('r_fault')])
      .toEqual([EINVAL, 0, EINVAL, EPERM, EPERM, EINVAL, EINVAL, EFAULT]);
    expect(d.read32(symbol('query') + 4)).toBe(0); // no flags: the IRQ is neither shared nor waiting for an EOI
    expect(d.active.iopl).toBe(0);
  });

  it('in/out and cli/sti in ring 1 are #GP until the kernel raises its virtual IOPL; then ports read as all ones', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov ebx, traps
    HYPERCALL set_trap_table
    mov byte [skip], 2
    in al, 0x60                          ; #GP: the virtual IOPL is 0
    mov byte [skip], 1
    cli                                  ; #GP
    mov ebx, PHYSDEVOP_set_iopl
    mov ecx, one
    HYPERCALL physdev_op
    mov [r_set], eax
    mov eax, 0x12345678
    in al, 0x60
    mov [r_in8], eax
    mov dx, 0x1f0
    in eax, dx
    mov [r_in32], eax
    out 0x80, al
    cli                                  ; ignored now
    sti
    jmp poweroff
gp_handler:
    inc dword [gp_count]
    add esp, 4                           ; the error code
    movzx eax, byte [skip]
    add [esp], eax                       ; past the instruction
    iret`, `traps: db 13, 0
       dw FLAT_KERNEL_CS
       dd gp_handler
       dd 0, 0
one: dd 1
skip: db 0
gp_count: dd 0
r_set: dd 1
r_in8: dd 0
r_in32: dd 0`));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name));
    expect([r('gp_count'), r('r_set'), r('r_in8'), r('r_in32')]).toEqual([2, 0, 0x123456ff, 0xffffffff]);
    expect(d.active.iopl).toBe(1);
  });

  it('unknown numbers are ENOSYS; bad arguments are Xen\'s errno; a bad pointer is EFAULT', () => {
    const { xen, d, symbol } = boot(kernel(`
    mov eax, 200
    int 0x82
    mov [r1], eax
    mov ebx, 99                          ; no such console_io command
    HYPERCALL console_io
    mov [r2], eax
    mov ebx, CONSOLEIO_write
    mov ecx, 4
    mov edx, 0x00002000                  ; not mapped
    HYPERCALL console_io
    mov [r3], eax
    mov ebx, 0xFC000000                  ; in the hole
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    HYPERCALL update_va_mapping
    mov [r4], eax
    mov ebx, 7
    mov ecx, 3
    HYPERCALL vm_assist
    mov [r5], eax`, 'r1: dd 0\nr2: dd 0\nr3: dd 0\nr4: dd 0\nr5: dd 0'));
    expect(xen.run(d, 100_000)).toEqual({ kind: 'ended' });
    const r = (name: string) => d.read32(symbol(name));
    expect([r('r1'), r('r2'), r('r3'), r('r4'), r('r5')]).toEqual([ENOSYS, EINVAL, EFAULT, EINVAL, EINVAL].map((x) => x >>> 0));
  });
});

