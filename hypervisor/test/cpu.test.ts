// The CPU's protection, paging, exception and snapshot behaviour: what a paravirtualized
// kernel in ring 1 and its applications in ring 3 see.

import { describe, expect, it } from 'vitest';
import { MNEMONICS } from '../../isa/src/index.js';
import { CR0_WP, DB, DE, EAX, EBX, ECX, EDX, ESP, GP, PFV, PTE_A, PTE_D, PTE_P, PTE_U, PTE_W, UD } from '../src/cpu.js';
import { AF, CF, IF, IOPL, OF, SF, ZF } from '../src/flags.js';
import { CODE, DATA, labelAddress, machine, RING_CS, RING_SS } from './machine.js';

/** One instruction of every privileged mnemonic (every form class `privileged` in isa/). */
const PRIVILEGED: Record<string, string[]> = {
  cli: ['cli'], sti: ['sti'], hlt: ['hlt'], clts: ['clts'], invd: ['invd'], wbinvd: ['wbinvd'], rdmsr: ['rdmsr'], wrmsr: ['wrmsr'], rdpmc: ['rdpmc'],
  lgdt: [`lgdt [${DATA}]`], lidt: [`lidt [${DATA}]`], lldt: ['lldt ax'], ltr: ['ltr ax'], lmsw: ['lmsw ax'], invlpg: [`invlpg [${DATA}]`],
  mov: ['mov cr3, eax', 'mov eax, cr0', 'mov cr0, eax', 'mov eax, cr2', 'mov cr4, eax', 'mov eax, dr7', 'mov dr0, eax'],
  in: ['in al, 0x60', 'in ax, dx', 'in eax, dx'], out: ['out 0x80, al', 'out dx, ax', 'out dx, eax'],
  insb: ['insb'], insw: ['insw'], insd: ['insd'], outsb: ['outsb'], outsw: ['outsw'], outsd: ['outsd'],
};
const IOPL_SENSITIVE = new Set(['cli', 'sti', 'in', 'out', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'outsd']);

describe('privileged instructions', () => {
  it('the list covers every privileged mnemonic of the instruction table', () => {
    const table = Object.keys(MNEMONICS).filter((m) => m === 'mov' || MNEMONICS[m].cls === 'privileged').sort();
    expect(Object.keys(PRIVILEGED).sort()).toEqual(table);
  });

  for (const ring of [1, 3]) {
    for (const [mnemonic, lines] of Object.entries(PRIVILEGED)) {
      for (const line of lines) {
        it(`${line} at CPL ${ring} raises #GP(0) and changes nothing`, () => {
          const src = `mov eax, 0x1234\nmov edx, 0x60\nmov esi, ${DATA}\nmov edi, ${DATA}\npriv: ${line}\nnop`;
          const m = machine(src, { ring });
          const at = labelAddress(src, 'priv');
          m.cpu.addBreakpoint(at);
          expect(m.run()).toEqual({ kind: 'breakpoint', address: at });
          const before = m.cpu.stateHash();
          expect(m.run()).toEqual({ kind: 'exception', vector: GP, errorCode: 0, software: false });
          expect(m.cpu.eip).toBe(at);
          expect(m.cpu.stateHash()).toBe(before); // nothing retired, nothing changed
          if (mnemonic !== 'mov') expect(MNEMONICS[mnemonic].cls).toBe('privileged');
        });
      }
    }
  }

  it('I/O and interrupt-flag instructions are allowed when CPL <= IOPL', () => {
    const m = machine('cli\nmov eax, 0\nin al, 0x60\nout 0x80, al\nsti\nnop', { ring: 3, iopl: 3 });
    m.cpu.addBreakpoint(CODE + 1);
    m.run();
    expect(m.cpu.getFlags() & IF).toBe(0); // cli took effect
    const stop = m.run(4);
    expect(stop.kind).toBe('budget');
    expect(m.cpu.regs[EAX] & 0xff).toBe(0xff); // no device: the port reads all ones
    expect(m.cpu.getFlags() & IF).toBe(IF);
    for (const name of IOPL_SENSITIVE) expect(MNEMONICS[name].iopl).toBe(true);
  });
});

describe('sensitive instructions at CPL 1 behave as on hardware, silently', () => {
  it('popf keeps IF and IOPL but changes the status flags', () => {
    // The popped value clears IF and asks for IOPL 3; ring 1 with IOPL 0 gets neither.
    const m = machine('push dword 0x38d5\npopfd\nnop', { ring: 1 });
    m.run(2);
    const f = m.cpu.getFlags();
    expect(f & IF).toBe(IF);
    expect(f & IOPL).toBe(0);
    expect(f & (CF | ZF | SF | OF | AF)).toBe(CF | ZF | SF | OF | AF);
  });

  it('popf changes IF when CPL <= IOPL, and IOPL only at CPL 0', () => {
    const m = machine('push dword 0x3000\npopfd', { ring: 1, iopl: 1 });
    m.run(2);
    expect(m.cpu.getFlags() & (IF | IOPL)).toBe(1 << 12);
    const k = machine('push dword 0x3000\npopfd', { ring: 0 });
    k.run(2);
    expect(k.cpu.getFlags() & (IF | IOPL)).toBe(IOPL);
  });

  it('popf at CPL 1 with IOPL 0 cannot clear IF', () => {
    const m = machine('push dword 0\npopfd', { ring: 1 });
    m.run(2);
    expect(m.cpu.getFlags() & IF).toBe(IF);
  });

  it('pushf shows the real IF and IOPL', () => {
    const m = machine('pushfd\npop eax', { ring: 1 });
    m.cpu.setFlags(0x202 | (1 << 12));
    m.run(2);
    expect(m.cpu.regs[EAX] & (IF | IOPL)).toBe(IF | (1 << 12));
  });

  it('sgdt, sidt, sldt, str and smsw reveal the real registers', () => {
    const m = machine(`sgdt [${DATA}]\nsidt [${DATA + 8}]\nsldt ax\nstr bx\nsmsw ecx`, { ring: 3 });
    m.cpu.gdtr = { base: 0xfc003000, limit: 0xe7ff };
    m.cpu.idtr = { base: 0xfc005000, limit: 0x7ff };
    m.cpu.ldtr = 0x28;
    m.cpu.tr = 0xe040;
    m.run(5);
    expect(m.mem.read16(DATA)).toBe(0xe7ff);
    expect(m.mem.read32(DATA + 2)).toBe(0xfc003000);
    expect(m.mem.read16(DATA + 8)).toBe(0x7ff);
    expect(m.mem.read32(DATA + 10)).toBe(0xfc005000);
    expect(m.cpu.regs[EAX] & 0xffff).toBe(0x28);
    expect(m.cpu.regs[EBX] & 0xffff).toBe(0xe040);
    expect(m.cpu.regs[ECX] >>> 0).toBe(m.cpu.cr0 >>> 0);
  });
});

/** What each sensitive instruction does at CPL 1 and 3: runs without a trap, as on hardware. */
const SENSITIVE: Record<string, { src: string; check: (m: ReturnType<typeof machine>, ring: number) => void }> = {
  pushf: { src: 'pushf\npop ax', check: (m) => expect(m.cpu.regs[EAX] & IF).toBe(IF) },
  pushfd: { src: 'pushfd\npop eax', check: (m) => expect(m.cpu.regs[EAX] & (IF | IOPL)).toBe(IF | (1 << 12)) },
  pushfw: { src: 'pushfw\npop ax', check: (m) => expect(m.cpu.regs[EAX] & (IF | IOPL)).toBe(IF | (1 << 12)) },
  popf: { src: 'push word 0x00d5\npopf', check: (m, ring) => expect(m.cpu.getFlags() & (IF | CF)).toBe(ring <= 1 ? CF : IF | CF) },
  popfd: { src: 'push dword 0x30d5\npopfd', check: (m, ring) => expect(m.cpu.getFlags() & (IF | IOPL | ZF)).toBe((ring <= 1 ? 0 : IF) | (1 << 12) | ZF) },
  popfw: { src: 'push word 0x00d5\npopfw', check: (m, ring) => expect(m.cpu.getFlags() & IF).toBe(ring <= 1 ? 0 : IF) },
  // iret to the same ring; IF only changes where CPL <= IOPL (IOPL is 1 here)
  iret: { src: 'pushfd\nand dword [esp], ~0x200\npush cs\npush dword done\niret\nnop\ndone:', check: (m, ring) => {
    expect(m.cpu.eip).toBe(labelAddress(SENSITIVE.iret.src, 'done'));
    expect(m.cpu.getFlags() & IF).toBe(ring <= 1 ? 0 : IF);
  } },
  iretd: { src: 'pushfd\npush cs\npush dword done\niretd\nnop\ndone:', check: (m) => expect(m.cpu.eip).toBe(labelAddress(SENSITIVE.iretd.src, 'done')) },
  // 16-bit: IP, CS and FLAGS are words, and EIP is the zero-extended IP (an int3 waits at 0xfff0)
  iretw: { src: 'pushfw\nmov ax, cs\npush ax\npush word 0xfff0\niretw', check: (m) => expect(m.cpu.eip).toBe(0xfff0) },
  cpuid: { src: 'mov eax, 0x40000000\ncpuid', check: (m) => expect(m.cpu.regs[EBX]).toBe(0x566e6558) }, // "XenV"
  sgdt: { src: `sgdt [${DATA}]`, check: (m) => expect(m.mem.read32(DATA + 2)).toBe(0xfc003000) },
  sidt: { src: `sidt [${DATA}]`, check: (m) => expect(m.mem.read32(DATA + 2)).toBe(0xfc005000) },
  sldt: { src: 'sldt ax', check: (m) => expect(m.cpu.regs[EAX] & 0xffff).toBe(0x28) },
  str: { src: 'str ax', check: (m) => expect(m.cpu.regs[EAX] & 0xffff).toBe(0xe040) },
  smsw: { src: 'smsw eax', check: (m) => expect(m.cpu.regs[EAX] >>> 0).toBe(m.cpu.cr0 >>> 0) },
  lar: { src: 'mov ebx, 0x2b\nlar eax, ebx', check: (m) => expect(m.cpu.getFlags() & ZF).toBe(0) },
  lsl: { src: 'mov ebx, 0x2b\nlsl eax, ebx', check: (m) => expect(m.cpu.getFlags() & ZF).toBe(0) },
  verr: { src: 'mov bx, 0x2b\nverr bx', check: (m) => expect(m.cpu.getFlags() & ZF).toBe(0) },
  verw: { src: 'mov bx, 0x2b\nverw bx', check: (m) => expect(m.cpu.getFlags() & ZF).toBe(0) },
};

describe('every sensitive instruction runs at CPL 1 and 3 without a trap', () => {
  it('the list covers every sensitive mnemonic of the instruction table', () => {
    expect(Object.keys(SENSITIVE).sort()).toEqual(Object.keys(MNEMONICS).filter((m) => MNEMONICS[m].cls === 'sensitive').sort());
  });
  for (const ring of [1, 3]) {
    for (const [name, t] of Object.entries(SENSITIVE)) {
      it(`${name} at CPL ${ring}`, () => {
        const m = machine(t.src + '\nint3', { ring, iopl: 1 });
        m.mem.write8(0xfff0, 0xcc);
        m.cpu.gdtr = { base: 0xfc003000, limit: 0xe7ff };
        m.cpu.idtr = { base: 0xfc005000, limit: 0x7ff };
        m.cpu.ldtr = 0x28;
        m.cpu.tr = 0xe040;
        m.cpu.setFlags(m.cpu.getFlags() | ZF);
        const stop = m.run();
        expect(stop).toEqual({ kind: 'exception', vector: 3, errorCode: -1, software: true });
        m.cpu.eip -= 1; // before the int3
        t.check(m, ring);
      });
    }
  }
});

describe('segment loads', () => {
  it("ring 3 cannot load ring 1's data segment; ring 1 may load ring 3's; SS must match the CPL", () => {
    const user = machine('mov ax, 0xe021\nmov ds, ax', { ring: 3 });
    expect(user.run()).toEqual({ kind: 'exception', vector: GP, errorCode: 0xe020, software: false });
    const kernel = machine('mov ax, 0xe033\nmov ds, ax\nmov ax, 0xe033\nmov ss, ax', { ring: 1 });
    expect(kernel.run(2).kind).toBe('budget');
    expect(kernel.cpu.sregs[3]).toBe(0xe033);
    expect(kernel.run()).toEqual({ kind: 'exception', vector: GP, errorCode: 0xe030, software: false });
  });
});

describe('ring transitions', () => {
  it('iret from ring 1 to ring 3 loads CS, SS and ESP, and user code then runs at CPL 3', () => {
    const src = `push dword ${RING_SS[3]}\npush dword 0x2f000\npushfd\npush dword ${RING_CS[3]}\npush dword user\niret\nuser: mov eax, 7\ncli`;
    const m = machine(src, { ring: 1 });
    expect(m.run()).toEqual({ kind: 'exception', vector: GP, errorCode: 0, software: false }); // the cli, at CPL 3
    expect(m.cpu.cpl).toBe(3);
    expect([m.cpu.sregs[1], m.cpu.sregs[2], m.cpu.regs[ESP], m.cpu.regs[EAX]]).toEqual([RING_CS[3], RING_SS[3], 0x2f000, 7]);
  });

  it('iret cannot return to an inner ring', () => {
    const m = machine(`pushfd\npush dword ${RING_CS[0]}\npush dword 0\niret`, { ring: 1 });
    expect(m.run()).toEqual({ kind: 'exception', vector: GP, errorCode: RING_CS[0] & ~3, software: false });
    expect(m.cpu.cpl).toBe(1);
  });
});

describe('software interrupts', () => {
  it('int 0x82 from ring 1 is a hypercall and leaves EIP past it', () => {
    const m = machine('mov eax, 17\nint 0x82\nnop', { ring: 1 });
    expect(m.run()).toEqual({ kind: 'hypercall', handled: false });
    expect(m.cpu.eip).toBe(CODE + 7);
  });

  /** Runs `src` in ring 1 interpreted, then compiled from the first block, with a hypercall handler that sets `flags` on its 50th call. */
  const interpretedAndCompiled = (src: string, flags: number) => [false, true].map((jit) => {
    const m = machine(src, { ring: 1 });
    m.cpu.jit = jit;
    m.cpu.jitThreshold = 1;
    let calls = 0;
    m.cpu.hypercallHandler = () => {
      if (++calls === 50) m.cpu.setFlags(m.cpu.getFlags() | flags);
      return true;
    };
    const stop = m.run();
    return { m, stop, calls };
  });

  it('a hypercall that sets TF (as iret may) traps after the next instruction, compiled or interpreted', () => {
    // 100 rounds of a hypercall; the handler sets TF on the 50th.
    const src = 'mov ecx, 100\nagain: inc ebx\nint 0x82\ndec ecx\njnz again\nnop'; // the hypercall mid-block
    const stops = interpretedAndCompiled(src, 0x100).map(({ m, stop, calls }) => ({ stop, calls, ebx: m.cpu.regs[EBX], eip: m.cpu.eip }));
    expect(stops[0]).toMatchObject({ stop: { kind: 'exception', vector: 1 }, calls: 50, ebx: 50 });
    expect(stops[1]).toEqual(stops[0]);
  });

  it('status flags a hypercall sets (as iret may) are what the next instruction sees, compiled or interpreted', () => {
    // A block keeps the flags it stored before a hypercall; here dec keeps the CF the handler set on the 50th round.
    const src = 'mov ecx, 100\nagain: xor eax, eax\nint 0x82\ndec ecx\nadc ebx, 0\ntest ecx, ecx\njnz again\nnop';
    const runs = interpretedAndCompiled(src, 1).map(({ m, stop, calls }) => ({ stop, calls, ebx: m.cpu.regs[EBX] }));
    expect(runs[0]).toMatchObject({ calls: 100, ebx: 1 });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('int 0x82 from ring 3 raises #GP with the IDT error code (the gate is DPL 1)', () => {
    const m = machine('int 0x82', { ring: 3 });
    expect(m.run()).toEqual({ kind: 'exception', vector: GP, errorCode: (0x82 << 3) | 2, software: false });
    expect(m.cpu.eip).toBe(CODE);
  });

  it('int n reports the vector when the gate allows the ring; int3 and into trap after the instruction', () => {
    const m = machine('int 0x80\nint3\nmov al, 0x7f\nadd al, 1\ninto\nnop', { ring: 3 });
    m.cpu.gateDpl[0x80] = 3;
    expect(m.run()).toEqual({ kind: 'exception', vector: 0x80, errorCode: -1, software: true });
    expect(m.run()).toEqual({ kind: 'exception', vector: 3, errorCode: -1, software: true });
    expect(m.cpu.eip).toBe(CODE + 3);
    expect(m.run()).toEqual({ kind: 'exception', vector: 4, errorCode: -1, software: true });
  });

  it('#DE, #UD and single-step #DB', () => {
    const de = machine('xor ecx, ecx\ndiv ecx');
    expect(de.run()).toMatchObject({ kind: 'exception', vector: DE });
    expect(de.cpu.eip).toBe(CODE + 2);
    const ud = machine('ud2');
    expect(ud.run()).toMatchObject({ kind: 'exception', vector: UD });
    const tf = machine('nop\nnop\nnop');
    tf.cpu.setFlags(tf.cpu.getFlags() | (1 << 8));
    expect(tf.run()).toEqual({ kind: 'exception', vector: DB, errorCode: -1, software: true });
    expect(tf.cpu.eip).toBe(CODE + 1);
  });
});

describe('paging', () => {
  const ADDR = 0x400000;

  it('not present: #PF with the error code and CR2, EIP and registers unchanged', () => {
    for (const [ring, line, code] of [[1, 'mov eax, [ebx]', 0], [3, 'mov eax, [ebx]', 4], [3, 'mov [ebx], eax', 6], [1, 'push eax', 2]] as const) {
      const m = machine(`mov ebx, ${ADDR + 0x10}\n${line === 'push eax' ? `mov esp, ${ADDR + 0x14}\n` : ''}${line}`, { ring });
      const stop = m.run();
      expect(stop).toEqual({ kind: 'exception', vector: PFV, errorCode: code, software: false });
      expect(m.cpu.cr2).toBe(line === 'push eax' ? ADDR + 0x10 : ADDR + 0x10);
      if (line === 'push eax') expect(m.cpu.regs[ESP]).toBe(ADDR + 0x14);
    }
  });

  it('ring 1 cannot write a read-only page when CR0.WP is set (what protects Xen page tables)', () => {
    const m = machine(`mov dword [${ADDR}], 1`, { ring: 1 });
    m.map(ADDR, DATA, PTE_P | PTE_U);
    expect(m.run()).toEqual({ kind: 'exception', vector: PFV, errorCode: 3, software: false });
    expect(m.mem.read32(DATA)).toBe(0);
    // Without WP a supervisor write goes through (Xen always sets WP).
    const n = machine(`mov dword [${ADDR}], 1`, { ring: 1 });
    n.map(ADDR, DATA, PTE_P | PTE_U);
    n.cpu.cr0 &= ~CR0_WP;
    n.run(1);
    expect(n.mem.read32(DATA)).toBe(1);
  });

  it('ring 3 cannot touch a supervisor page', () => {
    const m = machine(`mov eax, [${ADDR}]`, { ring: 3 });
    m.map(ADDR, DATA, PTE_P | PTE_W);
    expect(m.run()).toEqual({ kind: 'exception', vector: PFV, errorCode: 5, software: false });
    const k = machine(`mov eax, [${ADDR}]`, { ring: 1 });
    k.map(ADDR, DATA, PTE_P | PTE_W);
    expect(k.run(1).kind).toBe('budget');
  });

  it('accessed and dirty bits are set by reads and writes', () => {
    const m = machine(`mov eax, [${ADDR}]\nmov [${ADDR + 0x1000}], eax`);
    m.map(ADDR, DATA);
    m.map(ADDR + 0x1000, DATA + 0x1000);
    m.run(2);
    const pte = (lin: number) => m.mem.read32((m.mem.read32(0x80000 + (lin >>> 22) * 4) & ~0xfff) + ((lin >>> 12) & 0x3ff) * 4);
    expect(pte(ADDR) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(pte(ADDR + 0x1000) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it('the TLB keeps a stale translation until invlpg or a CR3 load, as hardware does', () => {
    const src = `mov eax, [${ADDR}]\nmov ebx, [${ADDR}]\ninvlpg [${ADDR}]\nmov ecx, [${ADDR}]\nnop`;
    const m = machine(src, { ring: 0 });
    m.map(ADDR, DATA);
    m.mem.write32(DATA, 111);
    m.mem.write32(DATA + 0x1000, 222);
    m.run(1);
    m.map(ADDR, DATA + 0x1000); // the guest changed the PTE without flushing
    m.run(3);
    expect([m.cpu.regs[EAX], m.cpu.regs[EBX], m.cpu.regs[ECX]]).toEqual([111, 111, 222]);
    const r = machine(`mov eax, [${ADDR}]\nmov ebx, cr3\nmov cr3, ebx\nmov ecx, [${ADDR}]`, { ring: 0 });
    r.map(ADDR, DATA);
    r.mem.write32(DATA, 1);
    r.mem.write32(DATA + 0x1000, 2);
    r.run(1);
    r.map(ADDR, DATA + 0x1000);
    r.run(3);
    expect([r.cpu.regs[EAX], r.cpu.regs[ECX]]).toEqual([1, 2]);
  });

  it('a write faults before anything is written when the second page of an unaligned store is read-only', () => {
    const m = machine(`mov dword [${ADDR + 0xffe}], 0x11223344`, { ring: 1 });
    m.map(ADDR, DATA);
    m.map(ADDR + 0x1000, DATA + 0x1000, PTE_P | PTE_U);
    expect(m.run()).toMatchObject({ kind: 'exception', vector: PFV, errorCode: 3 });
    expect(m.cpu.cr2).toBe(ADDR + 0x1000 + 1);
    expect(m.mem.read16(DATA + 0xffe)).toBe(0);
  });
});

describe('self-modifying code', () => {
  it('a store into the block that is running ends it, and the new code runs', () => {
    // Ends with a hypercall rather than a breakpoint: a page with breakpoints is never compiled.
    const src = ['xor eax, eax', 'mov dword [patch + 1], 5', 'patch: mov ebx, 2', 'add eax, ebx', 'int 0x82'].join('\n');
    for (const threshold of [1, 1000]) {
      const m = machine(src, { ring: 1 });
      m.cpu.jitThreshold = threshold;
      expect(m.run()).toEqual({ kind: 'hypercall', handled: false });
      expect([m.cpu.regs[EAX], m.cpu.regs[EBX]]).toEqual([5, 5]);
    }
  });

  it('a store into code that already ran is seen the next time it runs', () => {
    const src = [
      'mov ecx, 2',
      'again: mov eax, 1', // B8 01 00 00 00: the immediate is at again + 1
      'mov byte [again + 1], 7',
      'dec ecx',
      'jnz again',
      'nop',
    ].join('\n');
    const m = machine(src, { ring: 0 });
    m.cpu.addBreakpoint(labelAddress(src, 'again') + 17);
    m.run();
    expect(m.cpu.regs[EAX]).toBe(7);
  });

  it('a store next to code in its frame leaves the decoded code alone; a store into an instruction does not', () => {
    // A counter in the same page as the loop: written every round, never executed.
    const src = ['mov ecx, 1000', 'again: add dword [counter], 3', 'dec ecx', 'jnz again', 'nop', 'counter: dd 0'].join('\n');
    for (const jit of [false, true]) {
      const m = machine(src, { ring: 0 });
      m.cpu.jit = jit;
      m.cpu.jitThreshold = 1;
      m.cpu.addBreakpoint(labelAddress(src, 'counter') - 1);
      m.run();
      expect(m.cpu.read32(labelAddress(src, 'counter'))).toBe(3000);
      expect(m.cpu.codeGen).toBeLessThan(10); // not a drop per round: the code was kept
      // From outside too (the hypervisor writing guest memory): data bytes keep the code, code bytes drop it.
      const gen = m.cpu.codeGen;
      const pa = m.cpu.supervisorTranslate(labelAddress(src, 'counter'), true);
      m.cpu.mem.write32(pa, 7);
      expect(m.cpu.codeGen).toBe(gen);
      m.cpu.mem.write8(m.cpu.supervisorTranslate(labelAddress(src, 'again'), true), 0x90);
      expect(m.cpu.codeGen).toBeGreaterThan(gen);
    }
  });

  it('a store through another virtual address of the same frame is seen too', () => {
    const src = ['mov ecx, 2', 'again: mov eax, 1', 'mov byte [0x500000 + (again - 0x10000) + 1], 9', 'dec ecx', 'jnz again', 'nop'].join('\n');
    const m = machine(src, { ring: 0 });
    m.map(0x500000, CODE);
    m.cpu.addBreakpoint(labelAddress(src, 'again') + 17);
    m.run();
    expect(m.cpu.regs[EAX]).toBe(9);
  });
});

describe('snapshots and determinism', () => {
  const PROGRAM = [
    'mov ecx, 300', 'mov edi, 0x20000', 'xor eax, eax',
    'l: imul eax, eax, 1103515245', 'add eax, 12345', 'stosd', 'mov edx, eax', 'and edx, 0xff',
    'push edx', 'call f', 'pop edx', 'loop l', 'mov esi, 0x20000', 'mov edi, 0x21000', 'mov ecx, 300', 'rep movsd', 'hlt_here: jmp hlt_here',
    'f: rol eax, 5', 'xor eax, [esp + 4]', 'ret',
  ].join('\n');

  it('restoring a snapshot and running on gives a bit-identical state', () => {
    const m = machine(PROGRAM, { ring: 0 });
    m.run(1000);
    const snap = m.cpu.snapshot();
    m.run(2345);
    const first = m.cpu.stateHash();
    m.cpu.restore(snap);
    m.run(2345);
    expect(m.cpu.stateHash()).toBe(first);
  });

  it('the same cycles in any slicing give the same state, rep string instructions included', () => {
    const a = machine(PROGRAM, { ring: 0 });
    a.run(4000);
    const b = machine(PROGRAM, { ring: 0 });
    for (let used = 0; used < 4000; used += 7) b.run(Math.min(7, 4000 - used));
    expect(b.cpu.cycles).toBe(4000);
    expect(b.cpu.stateHash()).toBe(a.cpu.stateHash());
  });

  it('compiled blocks and the interpreter reach the same state, at every budget slicing', () => {
    const interpreted = machine(PROGRAM, { ring: 0 });
    interpreted.cpu.jit = false;
    interpreted.run(6000);
    for (const slice of [1, 3, 17, 6000]) {
      const compiled = machine(PROGRAM, { ring: 0 });
      compiled.cpu.jit = true;
      compiled.cpu.jitThreshold = 1;
      for (let used = 0; used < 6000; used += slice) compiled.run(Math.min(slice, 6000 - used));
      expect(compiled.cpu.stateHash()).toBe(interpreted.cpu.stateHash());
    }
  });

  it('a compiled loop stops at the budget and at a fault exactly where the interpreter does', () => {
    // Walks a pointer up until it reaches an unmapped page: a #PF in some round of the loop.
    const LOOP = ['mov esi, 0x7f000', 'xor eax, eax', 'l: add eax, [esi]', 'mov [esi], eax', 'add esi, 4', 'inc ecx', 'cmp ecx, 0x7fffffff', 'jnz l'].join('\n');
    const runTo = (jit: boolean, slice: number) => {
      const m = machine(LOOP, { ring: 1 });
      m.map(0x80000, null);
      m.cpu.jit = jit;
      m.cpu.jitThreshold = 1;
      for (;;) {
        const stop = m.run(slice);
        if (stop.kind !== 'budget') return { stop, eip: m.cpu.eip, esi: m.cpu.regs[6], ecx: m.cpu.regs[ECX], n: m.cpu.instructions, hash: m.cpu.stateHash() };
      }
    };
    const want = runTo(false, 1_000_000);
    expect(want.stop).toMatchObject({ kind: 'exception', vector: PFV });
    expect(want.esi).toBe(0x80000);
    for (const slice of [1, 7, 1000, 1_000_000]) expect(runTo(true, slice)).toEqual(want);
  });

  it('a different state has a different hash', () => {
    const m = machine(PROGRAM, { ring: 0 });
    m.run(500);
    const h = m.cpu.stateHash();
    m.cpu.regs[EDX] ^= 1;
    expect(m.cpu.stateHash()).not.toBe(h);
  });
});

describe('breakpoints', () => {
  it('stop before the instruction, and continuing runs it', () => {
    const m = machine('mov eax, 1\nmov eax, 2\nmov eax, 3\nnop');
    m.cpu.addBreakpoint(CODE + 5);
    expect(m.run()).toEqual({ kind: 'breakpoint', address: CODE + 5 });
    expect(m.cpu.regs[EAX]).toBe(1);
    m.cpu.addBreakpoint(CODE + 10);
    expect(m.run()).toEqual({ kind: 'breakpoint', address: CODE + 10 });
    expect(m.cpu.regs[EAX]).toBe(2);
    m.cpu.removeBreakpoint(CODE + 10);
    expect(m.run(2).kind).toBe('budget');
    expect(m.cpu.regs[EAX]).toBe(3);
  });
});
