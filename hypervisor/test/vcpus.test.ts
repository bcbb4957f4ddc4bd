// Domains with several vCPUs: the boot vCPU brings up another with VCPUOP_initialise and
// VCPUOP_up, both count into shared memory on the one physical CPU, an IPI wakes the
// second from SCHEDOP_poll and it takes itself down; every misuse gets Xen's errno.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { EEXIST, EINVAL, ENOENT } from '../src/xen/abi.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { RoundRobin } from '../src/xen/sched.js';
import { Xen } from '../src/xen/xen.js';
import { kernel, MAP_SHARED_INFO } from './guest.js';

const ROUNDS = 1000;

const SMP = kernel(`
    mov [si_ptr], esi
    ; ctrlreg[3]: the boot page directory's machine address (its frame from the P2M list)
    mov eax, [esi + start_info.pt_base]
    sub eax, 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    shl eax, 12
    mov [ctx + vcpu_guest_context.ctrlreg + 3 * 4], eax
    mov dword [ctx + vcpu_guest_context.user_regs.eip], secondary
    mov dword [ctx + vcpu_guest_context.user_regs.esp], stack1_top
    mov word [ctx + vcpu_guest_context.user_regs.cs], FLAT_KERNEL_CS
    mov word [ctx + vcpu_guest_context.user_regs.ss], FLAT_KERNEL_DS
    mov word [ctx + vcpu_guest_context.user_regs.ds], FLAT_KERNEL_DS
    mov word [ctx + vcpu_guest_context.user_regs.es], FLAT_KERNEL_DS
    mov dword [ctx + vcpu_guest_context.user_regs.eflags], 0x202
    mov dword [ctx + vcpu_guest_context.user_regs.eax], 0x5ec0
    mov dword [ctx + vcpu_guest_context.kernel_ss], FLAT_KERNEL_DS
    mov dword [ctx + vcpu_guest_context.kernel_sp], stack1_top
%macro VCPU 3                            ; command, vCPU, argument
    mov ebx, VCPUOP_%1
    mov ecx, %2
    mov edx, %3
    HYPERCALL vcpu_op
%endmacro
%macro SAY 1                             ; a line on the emergency console
    mov ebx, CONSOLEIO_write
    mov ecx, %%end - %%text
    mov edx, %%text
    HYPERCALL console_io
    jmp %%end
%%text: db %1, 10
%%end:
%endmacro
    VCPU is_up, 1, 0
    mov [r_isup1_before], eax
    VCPU up, 2, 0                        ; never initialised
    mov [r_up_uninit], eax
    VCPU initialise, 5, ctx              ; no such vCPU
    mov [r_novcpu], eax
    ; a data page is no page directory: refused, and vCPU 2 stays uninitialised
    mov eax, [ctx + vcpu_guest_context.ctrlreg + 3 * 4]
    push eax
    mov eax, ctx - 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    shl eax, 12
    mov [ctx + vcpu_guest_context.ctrlreg + 3 * 4], eax
    VCPU initialise, 2, ctx
    mov [r_badcr3], eax
    pop eax
    mov [ctx + vcpu_guest_context.ctrlreg + 3 * 4], eax
    VCPU initialise, 1, ctx
    mov [r_init], eax
    VCPU initialise, 1, ctx
    mov [r_again], eax
    ; an IPI to vCPU 1, and one to a vCPU that does not exist
    mov dword [ipi], 1
    mov ebx, EVTCHNOP_bind_ipi
    mov ecx, ipi
    HYPERCALL event_channel_op
    mov [r_ipi], eax
    mov dword [ipi_bad], 7
    mov ebx, EVTCHNOP_bind_ipi
    mov ecx, ipi_bad
    HYPERCALL event_channel_op
    mov [r_ipi_bad], eax
    ; VIRQ_TIMER is per vCPU (vCPU 1 may have its own); VIRQ_CONSOLE is global (vCPU 0 only)
    mov dword [virq + evtchn_bind_virq.virq], VIRQ_TIMER
    mov dword [virq + evtchn_bind_virq.vcpu], 1
    mov ebx, EVTCHNOP_bind_virq
    mov ecx, virq
    HYPERCALL event_channel_op
    mov [r_virq1], eax
    mov dword [virq + evtchn_bind_virq.virq], VIRQ_CONSOLE
    mov ebx, EVTCHNOP_bind_virq
    mov ecx, virq
    HYPERCALL event_channel_op
    mov [r_virq_global], eax
    ; EVTCHNOP_bind_vcpu: an unbound port may move to vCPU 1 (status says so); an IPI may
    ; not move; no vCPU 7
    mov dword [unbound], DOMID_SELF | (DOMID_SELF << 16)
    mov ebx, EVTCHNOP_alloc_unbound
    mov ecx, unbound
    HYPERCALL event_channel_op
    mov eax, [unbound + evtchn_alloc_unbound.port]
    mov [move], eax
    mov dword [move + 4], 1
    mov ebx, EVTCHNOP_bind_vcpu
    mov ecx, move
    HYPERCALL event_channel_op
    mov [r_move], eax
    mov eax, [move]
    mov [status + evtchn_status.port], eax
    mov word [status + evtchn_status.dom], DOMID_SELF
    mov ebx, EVTCHNOP_status
    mov ecx, status
    HYPERCALL event_channel_op
    mov [r_status], eax
    mov dword [move + 4], 7
    mov ebx, EVTCHNOP_bind_vcpu
    mov ecx, move
    HYPERCALL event_channel_op
    mov [r_move_novcpu], eax
    mov eax, [ipi + evtchn_bind_ipi.port]
    mov [move], eax
    mov dword [move + 4], 0
    mov ebx, EVTCHNOP_bind_vcpu
    mov ecx, move
    HYPERCALL event_channel_op
    mov [r_move_ipi], eax
    VCPU up, 1, 0
    mov [r_up], eax
    VCPU is_up, 1, 0
    mov [r_isup1], eax
    SAY "vcpu0: vcpu1 is up"
    call count
.wait_count:
    cmp dword [counter], 2 * ${ROUNDS}
    je .counted
    mov ebx, SCHEDOP_yield
    HYPERCALL sched_op
    jmp .wait_count
.counted:
    SAY "vcpu0: both counted"
    mov eax, [ipi + evtchn_bind_ipi.port]
    mov [send], eax
    mov ebx, EVTCHNOP_send
    mov ecx, send
    HYPERCALL event_channel_op
.wait_down:
    VCPU is_up, 1, 0
    test eax, eax
    jz .down
    mov ebx, SCHEDOP_yield
    HYPERCALL sched_op
    jmp .wait_down
.down:
    SAY "vcpu0: vcpu1 is down"
    VCPU get_runstate_info, 0, rs0
    VCPU get_runstate_info, 1, rs1
    VCPU get_runstate_info, 2, rs2
    VCPU get_runstate_info, 3, rs2
    mov [r_rs_novcpu], eax
    jmp poweroff

; Adds 1 to the shared counter ${ROUNDS} times, yielding every 100.
count:
    mov ecx, ${ROUNDS}
.add:
    lock inc dword [counter]
    mov eax, ecx
    xor edx, edx
    mov ebx, 100
    div ebx
    test edx, edx
    jnz .next
    push ecx
    mov ebx, SCHEDOP_yield
    HYPERCALL sched_op
    pop ecx
.next:
    loop .add
    ret

secondary:
    mov [eax_seen], eax                  ; from its context
    mov eax, [esp - 4]                   ; the stack it was given is mapped
    SAY "vcpu1: started"
    call count
    ; wait for the IPI (events stay masked: SCHEDOP_poll sees the pending port)
    mov eax, [ipi + evtchn_bind_ipi.port]
    mov [ports], eax
    mov ebx, SCHEDOP_poll
    mov ecx, poll
    HYPERCALL sched_op
    SAY "vcpu1: got the IPI"
    VCPU down, 1, 0
    mov dword [after_down], 1            ; never runs
    jmp $
`, `si_ptr: dd 0
counter: dd 0
eax_seen: dd 0
after_down: dd 0
r_isup1_before: dd -1
r_up_uninit: dd 1
r_novcpu: dd 1
r_badcr3: dd 1
r_init: dd 1
r_again: dd 1
r_ipi: dd 1
r_ipi_bad: dd 1
r_virq1: dd 1
r_virq_global: dd 1
r_up: dd 1
r_move: dd 1
r_rs_novcpu: dd 1
rs0: times vcpu_runstate_info_size db 0xff
rs1: times vcpu_runstate_info_size db 0xff
rs2: times vcpu_runstate_info_size db 0xff
r_status: dd 1
r_move_novcpu: dd 1
r_move_ipi: dd 1
unbound: dd 0, 0
move: dd 0, 0
status: times evtchn_status_size db 0
r_isup1: dd -1
ipi: dd 0, 0
ipi_bad: dd 0, 0
virq: dd 0, 0, 0
send: dd 0
ports: dd 0
poll: dd ports, 1, 0, 0
align 4096, db 0
ctx: times vcpu_guest_context_size db 0
align 4096, db 0
stack1: times 4096 db 0
stack1_top:`);

function boot(vcpus: number) {
  const r = assemble({ path: 'smp.xasm', text: SMP, provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  const xen = new Xen(4096);
  xen.policy = new RoundRobin(200_000);
  const violations: string[] = [];
  const built = xen.createDomain(guestImage(r.image), { name: 'smp', memoryKiB: 4096, vcpus });
  if ('error' in built) throw new Error(built.error);
  const d = built.domain;
  xen.onHypercall = () => violations.push(...checkInvariants(xen.mm, d.tablesHeld));
  const symbol = (name: string) => r.image.symbols.find((s) => s.name === name)!.value;
  const word = (name: string) => d.read32(symbol(name))! | 0;
  return { xen, d, violations, word, sym: symbol };
}

describe('vCPUs', () => {
  it('the boot vCPU brings up another, both run, an IPI wakes it, it takes itself down', () => {
    const { xen, d, violations, word, sym } = boot(3);
    expect(xen.run(d, 200_000_000)).toEqual({ kind: 'ended' });
    expect(d.state).toEqual({ kind: 'shutdown', reason: 0 });
    expect(d.consoleText).toBe('vcpu0: vcpu1 is up\nvcpu1: started\nvcpu0: both counted\nvcpu1: got the IPI\nvcpu0: vcpu1 is down\n');
    expect(word('counter')).toBe(2 * ROUNDS); // lock inc from both, none lost
    expect(word('eax_seen')).toBe(0x5ec0);
    expect(word('after_down')).toBe(0);
    expect({ before: word('r_isup1_before'), after: word('r_isup1') }).toEqual({ before: 0, after: 1 });
    expect([word('r_up_uninit'), word('r_novcpu'), word('r_badcr3')]).toEqual([EINVAL, ENOENT, EINVAL]);
    expect([word('r_init'), word('r_again'), word('r_up')]).toEqual([0, EEXIST, 0]);
    expect([word('r_ipi'), word('r_ipi_bad'), word('r_virq1'), word('r_virq_global')]).toEqual([0, ENOENT, 0, EINVAL]);
    expect([word('r_move'), word('r_status'), word('r_move_novcpu'), word('r_move_ipi')]).toEqual([0, 0, ENOENT, EINVAL]);
    const moved = d.read32(sym('unbound') + 4)!; // evtchn_alloc_unbound.port
    expect({ status: d.read32(sym('status') + 8), vcpu: d.read32(sym('status') + 12) }).toEqual({ status: 1, vcpu: 1 }); // EVTCHNSTAT_unbound, on vCPU 1
    expect(d.events.vcpuOf(moved)).toBe(1);
    // Both ran; vCPU 2 never did. The domain's time is theirs together.
    const [v0, v1, v2] = d.vcpus;
    expect(v0.cycles).toBeGreaterThan(0);
    expect(v1.cycles).toBeGreaterThan(0);
    expect(v2.cycles).toBe(0);
    expect(v0.cycles + v1.cycles).toBe(d.counters.cycles);
    expect([v1.initialised, v1.up, v2.initialised, v2.up]).toEqual([true, false, false, false]);
    // vCPU 1 holds a type reference on the page directory it was given, like vCPU 0.
    expect(v1.baseMfn).toBe(v0.baseMfn);
    expect(xen.frames.typeRefs[v0.baseMfn]).toBeGreaterThanOrEqual(2);
    expect(d.events.vcpuOf(v1.virqPort[0])).toBe(1);
    // VCPUOP_get_runstate_info: state, entry time, and time per state (running, runnable, blocked, offline).
    const runstate = (name: string) => {
      const b = d.read(sym(name), 44)!;
      const dv = new DataView(b.buffer);
      const u64 = (at: number) => dv.getUint32(at + 4, true) * 2 ** 32 + dv.getUint32(at, true);
      return { state: dv.getInt32(0, true), entry: u64(4), time: [0, 1, 2, 3].map((i) => u64(12 + 8 * i)) };
    };
    const rs0 = runstate('rs0'), rs1 = runstate('rs1'), rs2 = runstate('rs2');
    expect(rs0.state).toBe(0); // running: it asked
    expect(rs1.state).toBe(3); // offline: down
    expect(rs1.time[0]).toBe(v1.cycles); // all the time it ran, it was running
    expect(rs1.time[1]).toBeGreaterThan(0); // and it waited for the CPU while vCPU 0 ran
    expect(rs1.time[2]).toBeGreaterThan(0); // and it blocked in SCHEDOP_poll until the IPI
    expect(rs2).toEqual({ state: 3, entry: 0, time: [0, 0, 0, 0] }); // never up
    expect(word('r_rs_novcpu')).toBe(ENOENT);
    // Every vCPU's time adds up to the machine's, in one state or another.
    for (const v of d.vcpus) expect(v.runstateTime.reduce((a, t) => a + t, 0) + (xen.now - v.runstateEntry)).toBe(xen.now);
    expect(violations).toEqual([]);
  });

  it("VCPUOP_initialise takes the context's EFLAGS.IOPL as the new vCPU's virtual IOPL (the CPU's stays 0)", () => {
    const iopl = (eflags: string) => {
      const r = assemble({ path: 'smp.xasm', text: SMP.replace('user_regs.eflags], 0x202', `user_regs.eflags], ${eflags}`), provider: withBuiltins({ read: () => null }) });
      const xen = new Xen(4096);
      const built = xen.createDomain(guestImage(r.image), { name: 'smp', memoryKiB: 4096, vcpus: 3 });
      if ('error' in built) throw new Error(built.error);
      xen.run(built.domain, 200_000_000);
      const v1 = built.domain.vcpus[1];
      return [v1.iopl, (v1.cpu.getFlags() >>> 12) & 3];
    };
    expect(iopl('0x202')).toEqual([0, 0]);
    expect(iopl('0x1202')).toEqual([1, 0]);
  });

  it('the same machine runs the same interleaving twice (deterministic)', () => {
    const runs = [0, 1].map(() => {
      const { xen, d } = boot(2);
      xen.run(d, 200_000_000);
      return { text: d.consoleText, cycles: d.vcpus.map((v) => v.cycles), now: xen.now };
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('VCPUOP_set_periodic_timer ticks VIRQ_TIMER every period (at least 1 ms) until stopped', () => {
    const src = kernel(`${MAP_SHARED_INFO}
    mov ebx, EVTCHNOP_bind_virq
    mov ecx, bind
    HYPERCALL event_channel_op
    mov ebx, VCPUOP_set_periodic_timer
    xor ecx, ecx
    mov edx, too_short
    HYPERCALL vcpu_op
    mov [r_short], eax
    mov ebx, VCPUOP_set_periodic_timer
    xor ecx, ecx
    mov edx, period
    HYPERCALL vcpu_op
    mov [r_set], eax
    rdtsc
    mov [t0], eax
.wait:                                   ; five ticks, each seen as the pending port (events stay masked)
    mov ebx, SCHEDOP_poll
    mov ecx, poll
    HYPERCALL sched_op
    inc dword [ticks]
    mov ebx, VCPUOP_stop_periodic_timer
    cmp dword [ticks], 5
    je .stop
    ; acknowledge the tick: clear the port's pending bit in shared_info (mapped at shared)
    mov eax, [bind + 8]
    lock btr [shared + shared_info.evtchn_pending], eax
    jmp .wait
.stop:
    rdtsc
    mov [t1], eax
    xor ecx, ecx
    xor edx, edx
    HYPERCALL vcpu_op
    mov [r_stop], eax
    jmp poweroff
align 4096, db 0
shared: times 4096 db 0`, `bind: dd VIRQ_TIMER, 0, 0
poll: dd bind + 8, 1, 0, 0
too_short: dq 999999
period: dq 2000000
ticks: dd 0
t0: dd 0
t1: dd 0
r_short: dd 1
r_set: dd 1
r_stop: dd 1`);
    const r = assemble({ path: 'periodic.xasm', text: src, provider: withBuiltins({ read: () => null }) });
    if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
    const xen = new Xen(4096);
    const built = xen.createDomain(guestImage(r.image), { name: 'periodic', memoryKiB: 4096 });
    if ('error' in built) throw new Error(built.error);
    const d = built.domain;
    expect(xen.run(d, 100_000_000)).toEqual({ kind: 'ended' });
    const word = (n: string) => d.read32(r.image.symbols.find((x) => x.name === n)!.value)! | 0;
    expect([word('r_short'), word('r_set'), word('r_stop')]).toEqual([EINVAL, 0, 0]);
    expect(word('ticks')).toBe(5);
    // Five ticks of 2 ms: 10 ms after it was set (within a hypercall's time).
    expect(word('t1') - word('t0')).toBeGreaterThanOrEqual(10_000_000 - 2_000);
    expect(word('t1') - word('t0')).toBeLessThan(10_000_000 + 5_000);
    expect(d.vcpus[0].periodicNext).toBe(-1);
  });

  it('a domain has 1 to 32 vCPUs', () => {
    const r = assemble({ path: 'k.xasm', text: kernel('nop'), provider: withBuiltins({ read: () => null }) });
    if (!r.ok) throw new Error('assembly failed');
    const xen = new Xen(8192);
    expect(xen.createDomain(guestImage(r.image), { name: 'many', memoryKiB: 4096, vcpus: 33 })).toEqual({ error: '33 vCPUs: a domain has 1 to 32' });
    expect(xen.createDomain(guestImage(r.image), { name: 'none', memoryKiB: 4096, vcpus: 0 })).toEqual({ error: '0 vCPUs: a domain has 1 to 32' });
    const ok = xen.createDomain(guestImage(r.image), { name: 'max', memoryKiB: 4096, vcpus: 32 });
    expect('error' in ok ? ok.error : ok.domain.vcpus.map((v) => v.up)).toEqual([true, ...new Array(31).fill(false)]);
  });
});
