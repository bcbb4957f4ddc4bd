// What the Variables view shows for a vCPU: its registers as the guest sees them, what Xen
// keeps for it (event delivery, kernel stack, trap table, timers), and its domain
// (state, pages, hypercall counters, batching). Each group is a list of named values,
// some with children; registers and flags can be set.

import { hypercallByNumber } from '../../isa/src/index.js';
import { CS, DS, ES, SS } from '../../hypervisor/src/compile.js';
import { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP } from '../../hypervisor/src/cpu.js';
import { field, sizeOf } from '../../hypervisor/src/xen/abi.js';
import { NR_PORTS } from '../../hypervisor/src/xen/events.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';
import type { ExprContext } from './expr.js';
import { readValue } from './guestmem.js';
import type { Program } from './program.js';
import { hex } from './views.js';

export interface Value {
  name: string;
  value: string;
  /** Children, computed when asked for. */
  children?: () => Value[];
  /** A guest virtual address the value points at (for the memory view). */
  address?: number;
  /** Sets it from a number; returns an error message or null. */
  set?: (n: number) => string | null;
}

const GPRS: readonly [string, number][] = [['eax', EAX], ['ebx', EBX], ['ecx', ECX], ['edx', EDX], ['esi', ESI], ['edi', EDI], ['ebp', EBP], ['esp', ESP]];
const SREGS: readonly [string, number][] = [['cs', CS], ['ds', DS], ['es', ES], ['fs', 4], ['gs', 5], ['ss', SS]];
/** EFLAGS bits by name. */
export const FLAGS: readonly [string, number][] = [['cf', 0], ['pf', 2], ['af', 4], ['zf', 6], ['sf', 7], ['tf', 8], ['if', 9], ['df', 10], ['of', 11]];


/** The registers (and flags, `$`) of a vCPU and the symbols of its program, for expressions. */
export function exprContext(v: Vcpu, program: Program | null): ExprContext {
  const cpu = v.cpu;
  return {
    register(name) {
      const gpr = GPRS.find(([n]) => n === name);
      if (gpr) return cpu.regs[gpr[1]] >>> 0;
      const r16 = GPRS.find(([n]) => n.slice(1) === name);
      if (r16) return cpu.regs[r16[1]] & 0xffff;
      const r8 = /^([abcd])([lh])$/.exec(name);
      if (r8) {
        const r = cpu.regs[GPRS.find(([n]) => n === `e${r8[1]}x`)![1]];
        return r8[2] === 'l' ? r & 0xff : (r >>> 8) & 0xff;
      }
      if (name === 'eip' || name === '$') return cpu.eip >>> 0;
      if (name === 'eflags') return cpu.getFlags();
      const flag = FLAGS.find(([n]) => n === name);
      if (flag) return (cpu.getFlags() >>> flag[1]) & 1;
      const s = SREGS.find(([n]) => n === name);
      if (s) return cpu.sregs[s[1]];
      if (name === 'cr0') return cpu.cr0 >>> 0;
      if (name === 'cr2') return guestCr2(v);
      if (name === 'cr3') return cpu.cr3 >>> 0;
      if (name === 'cr4') return cpu.cr4 >>> 0;
      return undefined;
    },
    symbol: (name) => program?.symbol(name),
    read: (address, size) => readValue(v, address, size),
  };
}

/** Where a vCPU's vcpu_info is (in its domain's shared_info page). */
function vcpuInfo(v: Vcpu): number {
  return v.d.sharedInfoMfn * 4096 + v.id * sizeOf('vcpu_info');
}

/** CR2 as the guest reads it: Xen writes it into vcpu_info.arch.cr2 on a page fault. */
function guestCr2(v: Vcpu): number {
  return v.d.cpu.mem.read32(vcpuInfo(v) + field('vcpu_info', 'arch') + field('arch_vcpu_info', 'cr2'));
}

export function registers(v: Vcpu, pc?: number, sp?: number): Value[] {
  const cpu = v.cpu;
  const setGpr = (i: number) => (n: number) => ((cpu.regs[i] = n | 0), null);
  const out: Value[] = GPRS.map(([name, i]) => ({
    name, value: hex(i === ESP && sp !== undefined ? sp : cpu.regs[i]), address: cpu.regs[i] >>> 0, set: pc === undefined ? setGpr(i) : undefined,
  }));
  const eip = pc ?? cpu.eip >>> 0;
  out.push({ name: 'eip', value: hex(eip), address: eip, set: pc === undefined ? (n) => ((cpu.eip = n >>> 0), null) : undefined });
  const fl = cpu.getFlags();
  out.push({
    name: 'eflags',
    value: `${hex(fl)} [${FLAGS.filter(([, b]) => (fl >>> b) & 1).map(([n]) => n.toUpperCase()).join(' ')}]`,
    children: () => [
      ...FLAGS.map(([name, bit]): Value => ({
        name, value: String((cpu.getFlags() >>> bit) & 1),
        set: (n) => (n > 1 ? 'a flag is 0 or 1' : (cpu.setFlags((cpu.getFlags() & ~(1 << bit)) | (n << bit)), null)),
      })),
      { name: 'iopl', value: String((fl >>> 12) & 3) },
    ],
    set: (n) => (cpu.setFlags(n), null),
  });
  for (const [name, i] of SREGS) out.push({ name, value: `0x${cpu.sregs[i].toString(16).padStart(4, '0')} (ring ${cpu.sregs[i] & 3})` });
  out.push({ name: 'cr2', value: hex(guestCr2(v)) });
  out.push({ name: 'cr3', value: `${hex(cpu.cr3)} (mfn ${hex(cpu.cr3 >>> 12)})` });
  return out;
}

export function vcpuScope(v: Vcpu, program: Program | null): Value[] {
  const mem = v.d.cpu.mem;
  const info = vcpuInfo(v);
  const events = v.d.events;
  const label = (a: number) => {
    const l = program?.labelAt(a);
    return l ? ` <${l.name}${l.offset ? `+${l.offset}` : ''}>` : '';
  };
  const pending: number[] = [];
  for (let p = 1; p < NR_PORTS; p++) if (events.isPending(p)) pending.push(p);
  return [
    { name: 'id', value: String(v.id) },
    { name: 'state', value: !v.up ? 'down' : v.blocked ? (v.poll ? 'blocked (poll)' : 'blocked') : 'runnable' },
    { name: 'evtchn_upcall_mask', value: String(mem.read8(info + field('vcpu_info', 'evtchn_upcall_mask'))) },
    { name: 'evtchn_upcall_pending', value: String(mem.read8(info + field('vcpu_info', 'evtchn_upcall_pending'))) },
    { name: 'pending ports', value: pending.length ? pending.join(', ') : 'none' },
    { name: 'kernel stack', value: `${hex(v.kernelSs).slice(6)}:${hex(v.kernelSp)}`, address: v.kernelSp },
    {
      name: 'trap table', value: `${v.traps.size} handlers`,
      children: () => [...v.traps].sort(([a], [b]) => a - b).map(([vec, t]) => ({ name: `vector ${vec}`, value: `${hex(t.cs).slice(6)}:${hex(t.address)}${label(t.address)}`, address: t.address })),
    },
    { name: 'event callback', value: v.eventCallback ? `${hex(v.eventCallback.address)}${label(v.eventCallback.address)}` : 'none' },
    { name: 'timer', value: v.timerDeadline >= 0 ? `fires at ${v.timerDeadline} ns` : 'none' },
    { name: 'instructions', value: String(v.cpu.instructions) },
    { name: 'cycles', value: String(v.cpu.cycles) },
  ];
}

export function domainScope(v: Vcpu): Value[] {
  const d = v.d;
  const c = d.counters;
  const calls = c.hypercalls.reduce((a, b) => a + b, 0);
  const s = d.state;
  return [
    { name: 'id', value: String(d.domain) },
    { name: 'name', value: d.name },
    { name: 'state', value: s.kind === 'crashed' ? `crashed: ${s.why}` : s.kind === 'shutdown' ? `shut down (reason ${s.reason})` : d.paused ? 'paused' : 'running' },
    { name: 'pages', value: `${d.pages} of ${d.maxPages}` },
    { name: 'vcpus', value: String(d.vcpus.length) },
    {
      name: 'hypercalls', value: String(calls),
      children: () => [...c.hypercalls].map((n, i) => [i, n] as const).filter(([, n]) => n > 0).map(([i, n]) => ({ name: hypercallByNumber(i)?.name ?? `#${i}`, value: String(n) })),
    },
    { name: 'hypervisor entries', value: String(c.transitions) },
    { name: 'page-table updates', value: String(c.ptUpdates) },
    { name: 'batching', value: `${(c.ptUpdates / Math.max(1, c.transitions)).toFixed(2)} page-table updates per entry` },
    { name: 'events sent', value: String(c.eventsSent) },
  ];
}
