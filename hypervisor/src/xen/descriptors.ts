// Segment descriptors a guest may install (set_gdt, update_descriptor), by the rule of
// Xen's check_descriptor for a 32-bit PV guest: no ring-0 code or data (a DPL of 0 is
// raised to 1, as Xen does), no system descriptors, and no segment that reaches into the
// hypervisor hole. The CPU itself still uses flat segments (see ARCHITECTURE.md), so the
// descriptors only have to be right, and the frames typed, as Xen requires.

import { HYPERVISOR_VIRT_START } from './abi.js';

/** The descriptor to store for (lo, hi), or null when Xen would refuse it. */
export function checkDescriptor(lo: number, hi: number): { lo: number; hi: number } | null {
  const present = (hi & (1 << 15)) !== 0;
  if (!present) return { lo, hi };
  const system = (hi & (1 << 12)) === 0;
  if (system) return null;
  if (((hi >>> 13) & 3) === 0) hi = (hi & ~(3 << 13)) | (1 << 13);
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  let limit = (lo & 0xffff) | (hi & 0x000f0000);
  if (hi & (1 << 23)) limit = limit * 4096 + 4095; // 4 KiB granularity
  const expandDown = (hi & (1 << 11)) === 0 && (hi & (1 << 10)) !== 0; // data, expand-down
  // The highest address the segment reaches: expand-down data reaches to the top.
  const top = expandDown ? 0xffffffff : base + limit;
  if (top >= HYPERVISOR_VIRT_START) return null;
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
