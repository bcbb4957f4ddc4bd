// Benchmark: the paper's batching argument, measured. A guest prepares two sets of 1024
// page-table updates for a pinned L1 (a 4 MiB address space, each set mapping other
// frames, so every entry is checked again), then applies them alternately REFILLS times:
// as one mmu_update of 1024 entries, or as 1024 single-entry mmu_updates. Both run on the
// simulated Xen in the same process, interleaved. Prints guest transitions and host wall
// time side by side (target: batched <= 1/8 of unbatched, the cost of one batch against
// that of the single-entry hypercalls it replaces), and the host cost of a null
// hypercall round trip in guest-instruction equivalents (target <= 30).

import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { TRANSITION_CYCLES, Xen } from '../../hypervisor/src/xen/xen.js';
import { kernel } from '../../hypervisor/test/guest.js';

const ROUNDS = 7;
/** Times the guest applies a set, so that boot and warm-up do not decide the result. */
const REFILLS = 512;
/** Iterations of the null-hypercall loop (long enough for compiled blocks to pay off). */
const CALLS = 1_000_000;

/** Pins a new L1, prepares two sets of updates for all of its entries, applies them
 *  REFILLS times, batched or not (BATCHED defined to 1 or 0). */
export const BUILD = kernel(`    mov [si_ptr], esi
    mov eax, new_l1 - 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    mov [l1_mfn], eax
    shl eax, 12
    or eax, _PAGE_PRESENT | _PAGE_ACCESSED
    mov ecx, eax
    mov ebx, new_l1
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping          ; the new table's own mapping read-only
    mov eax, [l1_mfn]
    mov [pin + mmuext_op.arg1.mfn], eax
    mov ebx, pin
    mov ecx, 1
    xor edx, edx
    mov esi, DOMID_SELF
    HYPERCALL mmuext_op                  ; pinned: validated as an L1
    ; set_a[i] maps frame i of the domain at entry i, set_b[i] frame i + 1
    mov ebx, set_a
    xor ebp, ebp
    call prepare
    mov ebx, set_b
    mov ebp, 1
    call prepare
    mov ebp, REFILLS
refill:
    mov ebx, set_a
    test ebp, 1
    jz .apply
    mov ebx, set_b
.apply:
%if BATCHED
    mov ecx, 1024
    xor edx, edx
    mov esi, DOMID_SELF
    HYPERCALL mmu_update
%else
    mov edi, 1024
.one:
    mov ecx, 1
    xor edx, edx
    mov esi, DOMID_SELF
    HYPERCALL mmu_update
    add ebx, 16
    dec edi
    jnz .one
%endif
    test eax, eax
    jnz .failed
    dec ebp
    jnz refill
    jmp poweroff
.failed:
    mov dword [reason], SHUTDOWN_crash
    jmp poweroff

; fills the 1024 requests at ebx: entry i of new_l1 := frame (i + ebp) mod 1024 of the domain
prepare:
    xor edi, edi
.entry:
    mov eax, [l1_mfn]
    shl eax, 12
    lea eax, [eax + edi * 4]
    mov [ebx + mmu_update.ptr], eax
    mov dword [ebx + mmu_update.ptr + 4], 0
    mov eax, [si_ptr]
    mov eax, [eax + start_info.mfn_list]
    lea ecx, [edi + ebp]
    and ecx, 1023
    mov eax, [eax + ecx * 4]
    shl eax, 12
    or eax, _PAGE_PRESENT | _PAGE_ACCESSED
    mov [ebx + mmu_update.val], eax
    mov dword [ebx + mmu_update.val + 4], 0
    add ebx, 16
    inc edi
    cmp edi, 1024
    jb .entry
    ret
align 4096, db 0
new_l1: times 4096 db 0`, `si_ptr: dd 0
l1_mfn: dd 0
pin: dd MMUEXT_PIN_L1_TABLE, 0, 0
set_a: times 1024 * 16 db 0
set_b: times 1024 * 16 db 0`);

/** N iterations of a short loop, with or without a null hypercall (xen_version) in each. */
const NULL_CALLS = (withCall: boolean) => `bits 32
%include "xen.inc"
org 0xC0000000
XEN_ELFNOTE VIRT_BASE, 0xC0000000
section .text
global _start
_start:
    mov edi, CALLS
again:
${withCall ? '    xor ebx, ebx\n    HYPERCALL xen_version' : '    xor ebx, ebx\n    mov eax, 17'}
    dec edi
    jnz again
    mov ebx, SCHEDOP_shutdown
    mov ecx, reason
    HYPERCALL sched_op
section .data
reason: dd 0
`;

function image(source: string, predefined: Record<string, string> = {}) {
  const r = assemble({ path: 'bench.xasm', text: source, provider: withBuiltins({ read: () => null }), predefined });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return guestImage(r.image);
}

/** Boots and runs a guest to its end; host milliseconds (running only), and the domain. */
function runGuest(img: ReturnType<typeof image>) {
  const xen = new Xen(4096);
  const built = xen.createDomain(img, { name: 'bench', memoryKiB: 8192 });
  if ('error' in built) throw new Error(built.error);
  const t = performance.now();
  const r = xen.run(built.domain, 1e9);
  const ms = performance.now() - t;
  if (r.kind !== 'ended' || built.domain.state.kind !== 'shutdown' || built.domain.state.reason !== 0) throw new Error(`bench guest did not finish: ${JSON.stringify(built.domain.state)}`);
  return { ms, d: built.domain };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function run(): void {
  const unbatched = image(BUILD, { BATCHED: '0', REFILLS: String(REFILLS) });
  const batched = image(BUILD, { BATCHED: '1', REFILLS: String(REFILLS) });
  const plain = image(NULL_CALLS(false), { CALLS: String(CALLS) });
  const calls = image(NULL_CALLS(true), { CALLS: String(CALLS) });
  const t: Record<string, number[]> = { unbatched: [], batched: [], plain: [], calls: [] };
  let transitions = { unbatched: 0, batched: 0 };
  let cycles = { unbatched: 0, batched: 0 };
  let insns = { plain: 0 };
  for (let round = -1; round < ROUNDS; round++) {
    const u = runGuest(unbatched), b = runGuest(batched), p = runGuest(plain), c = runGuest(calls);
    if (round < 0) continue;
    t.unbatched.push(u.ms);
    t.batched.push(b.ms);
    t.plain.push(p.ms);
    t.calls.push(c.ms);
    transitions = { unbatched: u.d.counters.transitions, batched: b.d.counters.transitions };
    cycles = { unbatched: u.d.cpu.cycles, batched: b.d.cpu.cycles };
    insns = { plain: p.d.cpu.instructions };
  }
  const ratio = median(t.batched) / median(t.unbatched);
  console.log(`Xen PV interface, ${ROUNDS} interleaved rounds, node ${process.version}`);
  console.log(
    `  guest time (cycles, ${TRANSITION_CYCLES} per transition)  unbatched ${cycles.unbatched}   batched ${cycles.batched}   ratio ${(cycles.batched / cycles.unbatched).toFixed(3)}`,
  );
  console.log(
    `  1024 PTEs x ${REFILLS}  unbatched ${transitions.unbatched} transitions, ${median(t.unbatched).toFixed(2)} ms` +
      `   batched ${transitions.batched} transitions, ${median(t.batched).toFixed(2)} ms   ratio ${ratio.toFixed(3)}   target <= 0.125: ${ratio <= 0.125 ? 'met' : 'NOT met'}`,
  );
  // Host time of one guest instruction, from the loop without hypercalls; what the
  // hypercalls add per call, in those units.
  const perInsn = median(t.plain) / insns.plain;
  const perCall = (median(t.calls) - median(t.plain)) / CALLS;
  const equivalents = perCall / perInsn;
  console.log(
    `  null hypercall (xen_version)     ${(perCall * 1e6).toFixed(0)} ns per round trip = ${equivalents.toFixed(1)} guest-instruction equivalents` +
      ` (one instruction ${(perInsn * 1e6).toFixed(1)} ns)   target <= 30: ${equivalents <= 30 ? 'met' : 'NOT met'}`,
  );
}
