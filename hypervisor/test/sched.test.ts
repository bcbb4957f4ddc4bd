// Several domains on one simulated CPU: the scheduling policies (round robin, BVT with
// weights and warping), the machine's single clock, blocking and waking across domains,
// and determinism of the interleaving.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import type { Domain } from '../src/xen/domain.js';
import { Bvt, MCU, RoundRobin, type SchedulerPolicy } from '../src/xen/sched.js';
import { Xen } from '../src/xen/xen.js';
import { kernel } from './guest.js';

/** sched_poll on no ports with a timeout of 50 ms of system time. */
const POLL = 'poll: dd 0, 0\n      dq 50000000';

function image(body: string, data = POLL) {
  const r = assemble({ path: 'guest.xasm', text: kernel(body, data), provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  return guestImage(r.image);
}

/** A machine with one domain per body, created in order (ids 1, 2, ...). */
function machine(policy: SchedulerPolicy, ...bodies: string[]): { xen: Xen; doms: Domain[] } {
  const xen = new Xen(8192);
  xen.policy = policy;
  const doms = bodies.map((b, i) => {
    const built = xen.createDomain(image(b), { name: `d${i + 1}`, memoryKiB: 4096 });
    if ('error' in built) throw new Error(built.error);
    return built.domain;
  });
  return { xen, doms };
}

const SPIN = '    jmp $';
const share = (doms: Domain[]) => {
  const total = doms.reduce((a, d) => a + d.counters.cycles, 0);
  return doms.map((d) => d.counters.cycles / total);
};

describe('scheduling several domains on one CPU', () => {
  it('round robin gives CPU-bound domains equal slices in turn, and the clock is the sum of their time', () => {
    const { xen, doms } = machine(new RoundRobin(1_000_000), SPIN, SPIN, SPIN);
    expect(xen.runAll(30_000_000)).toEqual({ kind: 'budget' });
    expect(doms.map((d) => d.counters.cycles)).toEqual([10_000_000, 10_000_000, 10_000_000]);
    expect(xen.now).toBe(30_000_000);
  });

  it.each([[1, 3], [2, 5], [1, 8]])('BVT: CPU-bound domains of weights %i and %i share the CPU in proportion (within 1%)', (a, b) => {
    const { xen, doms } = machine(new Bvt(500_000), SPIN, SPIN);
    doms[0].sched.weight = a;
    doms[1].sched.weight = b;
    xen.runAll(200_000_000);
    const [sa, sb] = share(doms);
    expect(Math.abs(sa - a / (a + b))).toBeLessThan(0.01);
    expect(Math.abs(sb - b / (a + b))).toBeLessThan(0.01);
  });

  it('BVT: a domain that blocked banks no credit: on waking it gets its share, not the time it slept', () => {
    // d1 sleeps until 50 ms (a poll on no port with a timeout), then spins; d2 spins throughout.
    const sleeper = `
    mov ebx, SCHEDOP_poll
    mov ecx, poll
    HYPERCALL sched_op
    jmp $`;
    const { xen, doms } = machine(new Bvt(500_000), sleeper, SPIN);
    xen.runAll(150_000_000);
    // After waking at 50 ms the two split the remaining 100 ms evenly.
    expect(doms[0].counters.cycles / 100_000_000).toBeGreaterThan(0.49);
    expect(doms[0].counters.cycles / 100_000_000).toBeLessThan(0.51);
  });

  it('the same domains give the same interleaving, cycle for cycle', () => {
    const run = () => {
      const { xen, doms } = machine(new Bvt(300_000), SPIN, '    mov ebx, SCHEDOP_yield\n.again:\n    HYPERCALL sched_op\n    jmp .again', SPIN);
      doms[2].sched.weight = 2;
      const trace: string[] = [];
      xen.onHypercall = (d) => trace.push(`${d.domain}@${d.cpu.cycles}`);
      xen.runAll(20_000_000);
      return { trace, cycles: doms.map((d) => d.counters.cycles), hashes: doms.map((d) => d.cpu.stateHash()) };
    };
    const a = run();
    expect(a.trace.length).toBeGreaterThan(10);
    expect(run()).toEqual(a);
  });

  it('running the machine in pieces of any size gives the same machine as running it whole (what stepping a debugger does)', () => {
    const sleeper = '.again:\n    mov ebx, SCHEDOP_poll\n    mov ecx, poll\n    HYPERCALL sched_op\n    mov ecx, 3000\n.spin:\n    dec ecx\n    jnz .spin\n    jmp .again';
    const yielder = '.again:\n    mov ecx, 7000\n.spin:\n    dec ecx\n    jnz .spin\n    mov ebx, SCHEDOP_yield\n    HYPERCALL sched_op\n    jmp .again';
    const state = (pieces: number[]) => {
      const { xen, doms } = machine(new Bvt(300_000), SPIN, sleeper, yielder, SPIN);
      doms[3].sched.weight = 3;
      doms[1].sched.warp = 50;
      for (const p of pieces) xen.runAll(p);
      return { now: xen.now, cycles: doms.map((d) => d.counters.cycles), hashes: doms.map((d) => d.cpu.stateHash()) };
    };
    const total = 120_000_000;
    const whole = state([total]);
    // Pieces from 1 cycle to a few ms, the same total.
    let seed = 7;
    const pieces: number[] = [];
    for (let left = total; left > 0; ) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const p = Math.min(left, [1, 17, 999, 123_457, 2_000_003][seed % 5]);
      pieces.push(p);
      left -= p;
    }
    expect(state(pieces)).toEqual(whole);
  });

  it('BVT: a vCPU woken by an event takes the CPU at once when its effective virtual time is lower (Xen 2.0 bvt_wake)', () => {
    // d1 spins 2 ms, then notifies port 10 (bound to d2's port 10) and spins on; d2 waits in
    // SCHEDOP_poll on its port. Both note the time (rdtsc) of the send and of the wake.
    const sender = `
    mov ebx, SCHEDOP_yield               ; let the receiver start waiting first
    HYPERCALL sched_op
    mov ecx, 500000
.spin:
    dec ecx
    jnz .spin
    rdtsc
    mov [sent], eax
    mov ebx, EVTCHNOP_send
    mov ecx, port
    HYPERCALL event_channel_op
    jmp $`;
    const receiver = `
    mov ebx, SCHEDOP_poll
    mov ecx, wait
    HYPERCALL sched_op
    rdtsc
    mov [woke], eax
    jmp poweroff`;
    const data = `${POLL}
port: dd 10
ports: dd 10
wait: dd ports, 1, 0, 0
sent: dd 0
woke: dd 0`;
    const xen = new Xen(8192);
    xen.policy = new Bvt();
    const mk = (body: string, name: string) => {
      const r = assemble({ path: `${name}.xasm`, text: kernel(body, data), provider: withBuiltins({ read: () => null }) });
      if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
      const built = xen.createDomain(guestImage(r.image), { name, memoryKiB: 4096 });
      if ('error' in built) throw new Error(built.error);
      return { d: built.domain, at: (n: string) => built.domain.read32(r.image.symbols.find((x) => x.name === n)!.value)! };
    };
    const a = mk(sender, 'sender'), b = mk(receiver, 'receiver');
    a.d.events.bind(10, { kind: 'interdomain', remoteDom: b.d.domain, remotePort: 10 });
    b.d.events.bind(10, { kind: 'interdomain', remoteDom: a.d.domain, remotePort: 10 });
    xen.runAll(20_000_000);
    expect(b.d.state).toEqual({ kind: 'shutdown', reason: 0 });
    expect(a.at('sent')).toBeGreaterThan(1_000_000);
    // Woken well within the sender's 5 ms allowance: a hypercall's worth of cycles, not milliseconds.
    expect(b.at('woke') - a.at('sent')).toBeLessThan(5_000);
  });

  it('a domain that yields just before each accounting tick gets no more than its share', () => {
    // Two instructions a round: it spins just under one MCU, then yields.
    const yielder = `    mov ebx, SCHEDOP_yield\n.again:\n    mov ecx, ${Math.floor((MCU - 600) / 2)}\n.spin:\n    dec ecx\n    jnz .spin\n    HYPERCALL sched_op\n    jmp .again`;
    const { xen, doms } = machine(new Bvt(500_000), yielder, SPIN);
    xen.runAll(100_000_000);
    expect(share(doms)[0]).toBeLessThan(0.5 + 0.02);
    expect(share(doms)[0]).toBeGreaterThan(0.45); // it did compete for its half
  });
});
