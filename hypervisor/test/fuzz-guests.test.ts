// Guests are adversaries, as code: domains with several vCPUs run chunks of random bytes
// (with hypercall instructions and plausible hypercall numbers mixed in) on one machine.
// Every fault goes to a handler that moves on to the next chunk; a domain the code
// crashes anyway (a wild stack pointer makes faults undeliverable, as on Xen) is set going
// again at that handler, so a run goes through thousands of chunks. The hypervisor must never throw, the isolation invariants must hold
// throughout, and destroying every domain must free every frame.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { EBX, ECX, EDX, ESP } from '../src/cpu.js';
import { field } from '../src/xen/abi.js';
import { destroyDomain } from '../src/xen/control.js';
import type { Domain } from '../src/xen/domain.js';
import { hypercall } from '../src/xen/hypercalls.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { Xen } from '../src/xen/xen.js';
import { Rng } from './diff/generator.js';

const DOMAINS = Number(process.env.XENOLAB_GUEST_FUZZ ?? 4);
/** Rounds of 5 µs for the whole machine; each ended domain is set going again between rounds. */
const ROUNDS = Number(process.env.XENOLAB_GUEST_FUZZ_ROUNDS ?? 1500);
const CHUNKS = 400;
const CHUNK = 48;

/** Random code: raw bytes, with `int 0x82`, `mov eax, n` (a hypercall number) and `mov ebx/ecx, small` mixed in. */
function chunk(rng: Rng): number[] {
  const out: number[] = [];
  while (out.length < CHUNK - 6) {
    const r = rng.int(10);
    if (r === 0) out.push(0xcd, 0x82);
    else if (r === 1) out.push(0xb8, rng.int(40), 0, 0, 0);
    else if (r === 2) out.push(0xbb + rng.int(2) * -2, rng.int(16), 0, 0, 0); // mov ebx/ecx? (0xbb ebx, 0xb9 ecx)
    else out.push(rng.int(256));
  }
  while (out.length < CHUNK) out.push(0x90);
  return out;
}

function source(rng: Rng): string {
  const chunks = Array.from({ length: CHUNKS }, () => `    db ${chunk(rng).join(', ')}`).join('\n');
  return `bits 32
%include "xen.inc"
org 0xC0000000
XEN_ELFNOTE VIRT_BASE, 0xC0000000
XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page
section .text
global _start
_start:
    mov [esi_save], esi
    mov esp, stack_top
    mov ebx, traps
    HYPERCALL set_trap_table
    mov ebx, FLAT_KERNEL_CS
    mov ecx, next
    mov edx, FLAT_KERNEL_CS
    mov esi, next
    HYPERCALL set_callbacks
    ; The code, handler included, read-only: random stores into it fault instead of
    ; rewriting it (which only makes the CPU decode again), and the handler stays whole.
    mov edi, _start
.protect:
    mov eax, edi
    sub eax, 0xC0000000
    shr eax, 12
    mov ebx, [esi_save]
    mov ebx, [ebx + start_info.mfn_list]
    mov ecx, [ebx + eax * 4]
    shl ecx, 12
    or ecx, _PAGE_PRESENT | _PAGE_ACCESSED
    mov ebx, edi
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    add edi, 4096
    cmp edi, code_end
    jb .protect
; Every fault and every event lands here: on to the next chunk, with a fresh stack.
next:
    mov esp, stack_top
    mov eax, [cursor]
    add dword [cursor], ${CHUNK}
    cmp eax, chunks_end
    jae .done
    xor ebx, ebx
    xor ecx, ecx
    jmp eax
.done:
    mov ebx, SCHEDOP_shutdown
    mov ecx, reason
    HYPERCALL sched_op
    jmp $
align 16
chunks:
${chunks}
chunks_end:
align 4096, db 0
hypercall_page: times 4096 db 0
code_end:
section .data
cursor: dd chunks
esi_save: dd 0
reason: dd 0
traps:
%assign v 0
%rep 20
    db v, 3
    dw FLAT_KERNEL_CS
    dd next
%assign v v + 1
%endrep
    dd 0, 0
align 4096, db 0
context: times vcpu_guest_context_size db 0
stack: times 4096 db 0
stack_top:
`;
}

/** Brings up vCPU `id` at `next` (as the guest itself would, with vcpu_op). */
function bringUp(xen: Xen, d: Domain, id: number, context: number, next: number): void {
  const ctx = new Uint8Array(2800);
  const w = new DataView(ctx.buffer);
  const regs = field('vcpu_guest_context', 'user_regs');
  const reg = (name: string) => regs + field('cpu_user_regs', name);
  w.setUint32(reg('eip'), next, true);
  w.setUint16(reg('cs'), 0xe019, true);
  w.setUint16(reg('ss'), 0xe021, true);
  w.setUint16(reg('ds'), 0xe021, true);
  w.setUint32(reg('eflags'), 0x202, true);
  w.setUint32(field('vcpu_guest_context', 'ctrlreg') + 12, d.vcpus[0].baseMfn * 4096, true);
  w.setUint32(field('vcpu_guest_context', 'kernel_ss'), 0xe021, true);
  expect(d.write(context, ctx)).toBe(true);
  const r = d.cpu.regs;
  for (const [cmd, arg] of [[0, context], [1, 0]]) {
    r[0] = 24; // vcpu_op
    r[EBX] = cmd;
    r[ECX] = id;
    r[EDX] = arg;
    hypercall(xen, d);
    expect(r[0]).toBe(0);
  }
}

describe('random guest code', () => {
  it(`${DOMAINS} domains of 2-3 vCPUs running random code keep the hypervisor whole`, () => {
    const xen = new Xen(DOMAINS * 1100 + 512);
    const free0 = Array.from(xen.frames.owner).filter((o) => o === -1).length;
    const rng = new Rng(99);
    const doms: Domain[] = [];
    const restart = new Map<Domain, { next: number; stack: number }>();
    let revived = 0, ended = 0;
    /** An ended domain goes on: every vCPU that is up at the handler, on a fresh stack. */
    const revive = (d: Domain) => {
      const at = restart.get(d)!;
      d.state = { kind: 'running' };
      for (const v of d.vcpus.filter((x) => x.up)) {
        v.blocked = false;
        v.cpu.setSegments(0xe019, 0xe021);
        v.cpu.regs[ESP] = at.stack;
        v.cpu.eip = at.next;
      }
      revived++;
    };
    for (let i = 0; i < DOMAINS; i++) {
      const r = assemble({ path: `g${i}.xasm`, text: source(rng), provider: withBuiltins({ read: () => null }) });
      if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
      const sym = (n: string) => r.image.symbols.find((s) => s.name === n)!.value;
      const vcpus = 2 + (i % 2);
      const built = xen.createDomain(guestImage(r.image), { name: `g${i}`, memoryKiB: 4096, vcpus });
      if ('error' in built) throw new Error(built.error);
      const d = built.domain;
      for (let v = 1; v < vcpus; v++) bringUp(xen, d, v, sym('context'), sym('next'));
      doms.push(d);
      restart.set(d, { next: sym('next'), stack: sym('stack_top') });
    }
    const held = () => doms.flatMap((d) => d.tablesHeld);
    let calls = 0;
    xen.onHypercall = () => {
      if (++calls % 1009 === 0) expect(checkInvariants(xen.mm, held(), xen.hostMappings)).toEqual([]);
    };
    for (let round = 0; round < ROUNDS; round++) {
      expect(() => xen.runAll(5_000)).not.toThrow();
      // Ended ones at once; all of them now and then (a chunk may spin or block for good).
      for (const d of doms) {
        if (d.state.kind !== 'running') ended++;
        if (d.state.kind !== 'running' || round % 50 === 49) revive(d);
      }
      if (round % 250 === 0) expect(checkInvariants(xen.mm, held(), xen.hostMappings)).toEqual([]);
    }
    expect(ended, 'the random code did end domains (and they were set going again)').toBeGreaterThan(10);
    expect(revived).toBeGreaterThanOrEqual(ended);
    expect(calls).toBeGreaterThan(100);
    expect(checkInvariants(xen.mm, held(), xen.hostMappings)).toEqual([]);
    // Chunks did run on more than one vCPU.
    expect(doms.some((d) => d.vcpus.filter((v) => v.cycles > 0).length > 1)).toBe(true);
    for (const d of doms) expect(destroyDomain(xen, d)).toBe(0);
    expect(Array.from(xen.frames.owner).filter((o) => o === -1).length).toBe(free0);
  });
});
