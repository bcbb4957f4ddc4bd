// The Xen ABI values the hypervisor uses, read from isa/'s tables by Xen's own names (one
// source of truth): a name missing there fails at load, not at a guest's first hypercall.

import { xenConstant, xenErrnoByName, xenField, xenStruct } from '../../../isa/src/index.js';

/** The value of a Xen constant, e.g. k('MMUEXT_PIN_L2_TABLE'). */
export function k(name: string): number {
  const c = xenConstant(name);
  if (!c) throw new Error(`no Xen constant ${name} in isa/`);
  return c.value;
}

/** A hypercall's return value for a Xen errno, e.g. err('EINVAL') === -22. */
export function err(name: string): number {
  const e = xenErrnoByName(name);
  if (!e) throw new Error(`no Xen errno ${name} in isa/`);
  return -e.value;
}

export const EPERM = err('EPERM');
export const ESRCH = err('ESRCH');
export const EFAULT = err('EFAULT');
export const EBUSY = err('EBUSY');
export const EINVAL = err('EINVAL');
export const ENOSYS = err('ENOSYS');
export const ENOMEM = err('ENOMEM');
export const ENOENT = err('ENOENT');
export const EEXIST = err('EEXIST');
export const ENOSPC = err('ENOSPC');

export const HYPERVISOR_VIRT_START = k('HYPERVISOR_VIRT_START');
export const MACH2PHYS_VIRT_START = k('MACH2PHYS_VIRT_START');
export const MACH2PHYS_VIRT_END = k('MACH2PHYS_VIRT_END');
export const DOMID_SELF = k('DOMID_SELF');
export const DOMID_XEN = k('DOMID_XEN');

export const PAGE_PRESENT = k('_PAGE_PRESENT');
export const PAGE_RW = k('_PAGE_RW');
export const PAGE_USER = k('_PAGE_USER');
export const PAGE_ACCESSED = k('_PAGE_ACCESSED');
export const PAGE_DIRTY = k('_PAGE_DIRTY');
export const PAGE_PSE = k('_PAGE_PSE');
export const PAGE_GLOBAL = k('_PAGE_GLOBAL');

/** Largest batch a hypercall reads in one go (Xen preempts long batches; here they are refused). */
export const MAX_BATCH = 4096;

/** First page-directory slot of the hypervisor hole (slots from here on are Xen's). */
export const HYPERVISOR_L2_SLOT = HYPERVISOR_VIRT_START >>> 22;

/** A little-endian uint64 of a guest struct (a time in ns, say) as a number. */
export function getU64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 0x100000000 + v.getUint32(at, true);
}

export function setU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n >>> 0, true);
  v.setUint32(at + 4, Math.floor(n / 0x100000000) >>> 0, true);
}

/** The bytes of an ASCII string (Xen's strings: magic, version, command line). */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);
}

/** The size of one of Xen's structs. */
export function sizeOf(struct: string): number {
  const s = xenStruct(struct);
  if (!s) throw new Error(`no struct ${struct} in isa/`);
  return s.size;
}

/** The offset of a field of one of Xen's structs, e.g. field('sched_poll', 'timeout'). */
export function field(struct: string, name: string): number {
  const f = xenField(struct, name);
  if (!f) throw new Error(`no field ${struct}.${name} in isa/`);
  return f.offset;
}
