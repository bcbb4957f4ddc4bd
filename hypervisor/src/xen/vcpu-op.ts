// vcpu_op(cmd, vcpuid, arg): bringing a domain's other vCPUs to life (xen/common/domain.c
// do_vcpu_op and arch_set_info_guest). VCPUOP_initialise gives a vCPU that has never run
// its whole state from a vcpu_guest_context: registers, virtual IDT, GDT frames, kernel
// stack, page directory (ctrlreg[3]) and callbacks, each checked as the hypercall that
// sets it alone would check it; VCPUOP_up lets it be scheduled, VCPUOP_down stops it.

import { CR0_PG } from '../cpu.js';
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOSYS, err, field, getU64, k, setU64, sizeOf } from './abi.js';
import type { Domain } from './domain.js';
import { NS_PER_CYCLE } from './events.js';
import { PGT_SEG_DESC } from './frames.js';
import { ring1, type Vcpu } from './vcpu.js';
import type { Xen } from './xen.js';

const OP = {
  initialise: k('VCPUOP_initialise'), up: k('VCPUOP_up'), down: k('VCPUOP_down'), isUp: k('VCPUOP_is_up'), runstate: k('VCPUOP_get_runstate_info'),
  setSingleshot: k('VCPUOP_set_singleshot_timer'), stopSingleshot: k('VCPUOP_stop_singleshot_timer'),
  setPeriodic: k('VCPUOP_set_periodic_timer'), stopPeriodic: k('VCPUOP_stop_periodic_timer'),
};
const SSHOTTMR_future = k('VCPU_SSHOTTMR_future');
/** The shortest period VCPUOP_set_periodic_timer accepts (Xen: MILLISECS(1)). */
const MIN_PERIOD_NS = 1_000_000;
const ETIME = err('ETIME');
const FIRST_RESERVED_GDT_ENTRY = k('FIRST_RESERVED_GDT_ENTRY');
const CTX = 'vcpu_guest_context';
const CTX_SIZE = sizeOf(CTX);
const REGS = field(CTX, 'user_regs');
const reg = (name: string) => REGS + field('cpu_user_regs', name);
/** EFLAGS bits a guest may not set in the CPU: IOPL (Xen keeps it as the vCPU's virtual IOPL). */
const EFLAGS_IOPL = 0x3000;
const EFLAGS_IF = 0x200;


export function vcpuOp(x: Xen, d: Domain, cmd: number, vcpuid: number, arg: number): number {
  const v = vcpuid < d.vcpus.length ? d.vcpus[vcpuid] : undefined;
  if (!v) return ENOENT;
  switch (cmd) {
    case OP.initialise: {
      const ctx = d.read(arg, CTX_SIZE);
      if (!ctx) return EFAULT;
      if (v.initialised) return EEXIST;
      return initialise(x, v, new DataView(ctx.buffer));
    }
    case OP.up:
      if (!v.initialised) return EINVAL;
      if (!v.up) {
        v.up = true;
        v.setRunstate(v.idleRunstate, x.time());
        x.policy.wake(v, x.time());
      }
      return 0;
    case OP.down:
      v.up = false; // the caller itself stops at once (and goes offline as it leaves the CPU)
      if (v !== d.active) v.setRunstate(v.idleRunstate, x.time());
      return 0;
    case OP.runstate: {
      // As Xen keeps it: the state, since when, and the time in each state up to then.
      const out = new Uint8Array(sizeOf('vcpu_runstate_info'));
      const w = new DataView(out.buffer);
      w.setInt32(field('vcpu_runstate_info', 'state'), v.runstate, true);
      setU64(w, field('vcpu_runstate_info', 'state_entry_time'), v.runstateEntry);
      v.runstateTime.forEach((t, i) => setU64(w, field('vcpu_runstate_info', 'time') + 8 * i, t));
      return d.write(arg, out) ? 0 : EFAULT;
    }
    case OP.isUp:
      return v.up ? 1 : 0;
    case OP.setSingleshot: {
      if (v !== d.active) return EINVAL; // only a vCPU's own timer
      const a = d.read(arg, sizeOf('vcpu_set_singleshot_timer'));
      if (!a) return EFAULT;
      const t = new DataView(a.buffer);
      const ns = getU64(t, 0);
      const at = Math.ceil(ns / NS_PER_CYCLE);
      const now = v.cpu.cycles;
      if (t.getUint32(8, true) & SSHOTTMR_future && at < now) return ETIME;
      v.timerDeadline = Math.max(now, at);
      return 0;
    }
    case OP.setPeriodic: {
      // A tick of VIRQ_TIMER every period_ns (at least 1 ms, as Xen requires).
      const a = d.read(arg, sizeOf('vcpu_set_periodic_timer'));
      if (!a) return EFAULT;
      const t = new DataView(a.buffer);
      const ns = getU64(t, 0);
      if (ns < MIN_PERIOD_NS || t.getUint32(4, true) > 0x7fffffff) return EINVAL;
      v.periodicPeriod = Math.ceil(ns / NS_PER_CYCLE);
      v.periodicNext = x.time() + v.periodicPeriod;
      return 0;
    }
    case OP.stopPeriodic:
      v.periodicPeriod = 0;
      v.periodicNext = -1;
      return 0;
    case OP.stopSingleshot:
      if (v !== d.active) return EINVAL;
      v.timerDeadline = -1;
      return 0;
    default:
      return ENOSYS;
  }
}

/** arch_set_info_guest for a vCPU that has not run: every part checked before any is kept. */
function initialise(x: Xen, v: Vcpu, c: DataView): number {
  const u32 = (off: number) => c.getUint32(off, true);
  const u16 = (off: number) => c.getUint16(off, true);
  // The LDT is checked as MMUEXT_SET_LDT checks it (and, as there, not kept: segments are flat).
  const ldtBase = u32(field(CTX, 'ldt_base')), ldtEnts = u32(field(CTX, 'ldt_ents'));
  if (ldtBase & 0xfff || ldtEnts > 8192) return EINVAL;
  const gdtEnts = u32(field(CTX, 'gdt_ents'));
  if (gdtEnts > FIRST_RESERVED_GDT_ENTRY) return EINVAL;
  // The page directory: a reference of type L2 on a frame of the domain, or nothing.
  const cr3 = u32(field(CTX, 'ctrlreg') + 3 * 4);
  if (cr3 & 0xfff) return EINVAL;
  const rc = x.mm.newBaseptr(cr3 >>> 12, v);
  if (rc !== 0) return rc;
  const gdt = Array.from({ length: Math.ceil(gdtEnts / 512) }, (_, i) => u32(field(CTX, 'gdt_frames') + 4 * i));
  if (setGdt(x, v, gdt) !== 0) {
    x.mm.putPageAndType(v.baseMfn);
    v.baseMfn = -1;
    return EINVAL;
  }
  const cpu = v.cpu;
  cpu.cr0 |= CR0_PG;
  cpu.cr3 = v.baseMfn * 4096;
  cpu.cycles = x.time();
  (['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const).forEach((r, i) => (cpu.regs[i] = u32(reg(r))));
  cpu.setSegments(ring1(u16(reg('cs'))), ring1(u16(reg('ss'))), ring1(u16(reg('ds'))));
  cpu.sregs[0] = ring1(u16(reg('es')));
  cpu.sregs[4] = ring1(u16(reg('fs')));
  cpu.sregs[5] = ring1(u16(reg('gs')));
  // EFLAGS.IOPL given is the vCPU's virtual IOPL (as Xen's arch_set_info_guest takes it);
  // the CPU's own stays 0, so that I/O traps to Xen, which checks the virtual one
  v.iopl = (u32(reg('eflags')) & EFLAGS_IOPL) >>> 12;
  cpu.setFlags((u32(reg('eflags')) & ~EFLAGS_IOPL) | EFLAGS_IF); // the real IF stays on
  cpu.eip = u32(reg('eip'));
  // The virtual IDT: entries with an address; `int n` reaches the guest from the rings each allows.
  v.traps.clear();
  const traps = field(CTX, 'trap_ctxt');
  for (let i = 0; i < 256; i++) {
    const at = traps + i * 8;
    const address = u32(at + 4);
    if (address === 0) continue;
    v.setTrap(c.getUint8(at), c.getUint8(at + 1), u16(at + 2), address);
  }
  v.kernelSs = ring1(u32(field(CTX, 'kernel_ss')) & 0xffff);
  v.kernelSp = u32(field(CTX, 'kernel_sp'));
  const callback = (cs: string, eip: string) => ({ cs: ring1(u32(field(CTX, cs)) & 0xffff), address: u32(field(CTX, eip)) });
  v.eventCallback = callback('event_callback_cs', 'event_callback_eip');
  v.failsafeCallback = callback('failsafe_callback_cs', 'failsafe_callback_eip');
  v.initialised = true;
  return 0;
}

/**
 * Installs the frames of a vCPU's GDT: each must be the domain's and take the descriptor
 * type (not mapped writable, every descriptor acceptable); the old ones are let go.
 */
export function setGdt(x: Xen, v: Vcpu, mfns: readonly number[]): number {
  const f = x.frames;
  const taken: number[] = [];
  const undo = () => taken.forEach((m) => x.mm.putPageAndType(m));
  for (const mfn of mfns) {
    if (!f.getPage(mfn, v.domain)) {
      undo();
      return EINVAL;
    }
    if (x.mm.getPageType(mfn, PGT_SEG_DESC, v.domain) !== 0) {
      f.putPage(mfn);
      undo();
      return EINVAL; // mapped writable, in use as another type, or a descriptor Xen refuses
    }
    taken.push(mfn);
  }
  for (const m of v.gdtFrames) x.mm.putPageAndType(m);
  v.gdtFrames = taken;
  return 0;
}
