// Guest memory as the debugger reaches it: a vCPU's virtual addresses translated through
// its page tables by reading them, never through the CPU's MMU, so looking sets no
// accessed or dirty bit, fills no TLB entry and trips no data breakpoint.

import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from '../../hypervisor/src/memory.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';
import type { FrameTable } from '../../hypervisor/src/xen/frames.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';

/** Where a memory reference's addresses are: a vCPU's virtual addresses, a domain's pseudo-physical ones, or machine memory. */
export type AddressSpace =
  | { kind: 'virtual'; vcpu: Vcpu }
  | { kind: 'physical'; domain: Domain; frames: FrameTable }
  | { kind: 'machine'; mem: PhysicalMemory };

const P = 1, W = 2;

/** The machine address of `va` for `v` (null: not mapped), and whether the mapping is writable. */
export function translate(v: Vcpu, va: number): { pa: number; writable: boolean } | null {
  const mem = v.d.cpu.mem;
  const cr3 = v.cpu.cr3 >>> 0;
  if (v.cpu.cr0 >= 0) return { pa: va >>> 0, writable: true }; // paging off
  const pde = mem.read32(((cr3 & ~0xfff) + ((va >>> 22) << 2)) >>> 0);
  if (!(pde & P)) return null;
  const pte = mem.read32(((pde & ~0xfff) + (((va >>> PAGE_SHIFT) & 0x3ff) << 2)) >>> 0);
  if (!(pte & P)) return null;
  const pa = ((pte & ~0xfff) | (va & 0xfff)) >>> 0;
  if (!mem.contains(pa)) return null;
  return { pa, writable: (pde & pte & W) !== 0 };
}

/**
 * The machine address of `a` in `space` (null: not mapped there). A pseudo-physical frame
 * is the builder's P2M entry while the domain still owns that frame under that number
 * (Xen keeps no P2M: a frame the guest gave back is not its memory any more).
 */
export function toMachine(space: AddressSpace, a: number): { pa: number; writable: boolean } | null {
  switch (space.kind) {
    case 'virtual': return translate(space.vcpu, a);
    case 'machine': return space.mem.contains(a >>> 0) ? { pa: a >>> 0, writable: true } : null;
    case 'physical': {
      const pfn = a >>> PAGE_SHIFT, d = space.domain, f = space.frames;
      const mfn = pfn < d.p2m.length ? d.p2m[pfn] : -1;
      if (!(mfn >= 0 && mfn < f.count) || f.owner[mfn] !== d.domain || f.m2p[mfn] !== pfn) return null;
      return { pa: mfn * PAGE_SIZE + (a & (PAGE_SIZE - 1)), writable: true };
    }
  }
}

const memoryOf = (space: AddressSpace): PhysicalMemory =>
  space.kind === 'machine' ? space.mem : space.kind === 'virtual' ? space.vcpu.d.cpu.mem : space.domain.cpu.mem;

/** Reads up to `n` bytes at `va`: the bytes up to the first unmapped page. */
export function readGuest(v: Vcpu, va: number, n: number): Uint8Array {
  return readSpace({ kind: 'virtual', vcpu: v }, va, n);
}

/** Reads up to `n` bytes at `a` in `space`: the bytes up to the first unmapped page. */
export function readSpace(space: AddressSpace, a: number, n: number): Uint8Array {
  const mem = memoryOf(space);
  const out = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const at = (a + done) >>> 0;
    const t = toMachine(space, at);
    if (t === null) break;
    const chunk = Math.min(n - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
    out.set(mem.bytes.subarray(t.pa, t.pa + chunk), done);
    done += chunk;
  }
  return out.subarray(0, done);
}

/** A little-endian value of 1, 2 or 4 bytes at `va`; null where unmapped. */
export function readValue(v: Vcpu, va: number, size: 1 | 2 | 4): number | null {
  const b = readGuest(v, va, size);
  if (b.length < size) return null;
  let x = 0;
  for (let i = size - 1; i >= 0; i--) x = (x << 8) | b[i];
  return x >>> 0;
}
