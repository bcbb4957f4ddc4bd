// The memory-isolation invariants, recomputed from scratch: what the frame table says must
// equal what the page tables, pins and CR3s actually hold. Tests run it after every
// hypercall; the debugger can run it on demand. Returns the violations found.

import { HYPERVISOR_L2_SLOT, PAGE_PRESENT, PAGE_RW } from './abi.js';
import { NO_OWNER, PGT_L1, PGT_L2, PGT_WRITABLE } from './frames.js';
import type { MemoryManager } from './mm.js';

/**
 * `held`: frames the vCPUs hold a general and a type reference on outside any table
 * (the page directories in CR3, the frames of GDTs installed with set_gdt).
 * `granted`: grants mapped for devices only (no page-table entry), which hold a
 * reference on the frame (and a writable one unless read-only). A grant mapped at a
 * virtual address is an entry of an L1 (`mm.grantPtes`): the one way a domain's page
 * table may map another domain's frame.
 */
export function checkInvariants(mm: MemoryManager, held: readonly number[], granted: readonly { frame: number; readonly: boolean }[] = []): string[] {
  const f = mm.frames;
  const out: string[] = [];
  const refs = new Int32Array(f.count);
  const typeRefs = new Int32Array(f.count);
  const read = (mfn: number, i: number) => mm.mem.read32(mfn * 4096 + i * 4);
  for (let mfn = 0; mfn < f.count; mfn++) {
    if (f.owner[mfn] !== NO_OWNER) refs[mfn]++; // the allocation
    if (f.isPinned(mfn)) {
      refs[mfn]++;
      typeRefs[mfn]++;
    }
  }
  for (const mfn of held) {
    if (mfn < 0) continue;
    refs[mfn]++;
    typeRefs[mfn]++;
  }
  for (const g of granted) {
    refs[g.frame]++;
    if (!g.readonly) typeRefs[g.frame]++;
  }
  for (let mfn = 0; mfn < f.count; mfn++) {
    if (f.typeRefs[mfn] === 0) continue;
    const owner = f.owner[mfn];
    if (f.type[mfn] === PGT_L1) {
      for (let i = 0; i < 1024; i++) {
        const pte = read(mfn, i);
        if (!(pte & PAGE_PRESENT)) continue;
        const target = pte >>> 12;
        if (target >= f.count) {
          out.push(`L1 ${mfn}[${i}] maps frame ${target}, which is not RAM`);
          continue;
        }
        refs[target]++;
        if (f.owner[target] !== owner && mm.grantPtes.get(mfn * 4096 + i * 4) !== target) out.push(`L1 ${mfn}[${i}] of domain ${owner} maps frame ${target} of domain ${f.owner[target]}`);
        if (pte & PAGE_RW) {
          typeRefs[target]++;
          if (f.type[target] !== PGT_WRITABLE) out.push(`L1 ${mfn}[${i}] maps frame ${target} writable, but it is of type ${f.type[target]}`);
        }
      }
    } else if (f.type[mfn] === PGT_L2) {
      for (let i = 0; i < 1024; i++) {
        const pde = read(mfn, i);
        if (i >= HYPERVISOR_L2_SLOT) {
          if (pde !== mm.xenL2Entries[i - HYPERVISOR_L2_SLOT]) out.push(`L2 ${mfn}[${i}] in the hypervisor hole is ${pde.toString(16)}, not Xen's entry`);
          continue;
        }
        if (!(pde & PAGE_PRESENT)) continue;
        const target = pde >>> 12;
        refs[target]++;
        typeRefs[target]++;
        if (f.type[target] !== PGT_L1) out.push(`L2 ${mfn}[${i}] points at frame ${target} of type ${f.type[target]}, not a page table`);
        if (f.owner[target] !== owner) out.push(`L2 ${mfn}[${i}] of domain ${owner} points at frame ${target} of domain ${f.owner[target]}`);
      }
    }
  }
  for (let mfn = 0; mfn < f.count; mfn++) {
    if (f.owner[mfn] === NO_OWNER && f.refs[mfn] === 0) continue;
    if (f.refs[mfn] !== refs[mfn]) out.push(`frame ${mfn}: reference count ${f.refs[mfn]}, but ${refs[mfn]} references exist`);
    if (f.typeRefs[mfn] !== typeRefs[mfn]) out.push(`frame ${mfn}: type count ${f.typeRefs[mfn]}, but ${typeRefs[mfn]} uses of type ${f.type[mfn]} exist`);
    if (f.typeRefs[mfn] > 0 && (f.type[mfn] === PGT_L1 || f.type[mfn] === PGT_L2) && !f.isValidated(mfn)) out.push(`frame ${mfn} is in use as a page table without validation`);
  }
  return out;
}
