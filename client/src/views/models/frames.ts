// How a frame is described wherever a panel shows one (page tables, memory, frame map):
// its type in words, its owner, and its counts.

import type { FrameInfo, FrameTypeName } from '../../../../protocol/src/index.js';
import { shortHex } from './format.js';

const TYPE_TEXT: Partial<Record<FrameTypeName, string>> = {
  none: 'untyped', l1: 'L1 page table', l2: 'page directory (L2)', seg_desc: 'descriptor table', writable: 'writable',
};

export const frameTypeText = (t: FrameTypeName): string => TYPE_TEXT[t] ?? t;

/** `Xen`, `free` or `dom3`. */
export function ownerText(owner: number, xenId: number): string {
  return owner === xenId ? 'Xen' : owner < 0 ? 'free' : `dom${owner}`;
}

/** `mfn 0x1c (pfn 0x13, dom1) L1 page table ×1, 4 refs, pinned` */
export function frameText(f: FrameInfo, xenId: number): string {
  const pfn = f.pfn >= 0 ? `pfn ${shortHex(f.pfn)}, ` : '';
  const type = `${frameTypeText(f.type)}${f.typeCount ? ` ×${f.typeCount}` : ''}`;
  return `mfn ${shortHex(f.mfn)} (${pfn}${ownerText(f.owner, xenId)}) ${type}, ${f.refCount} refs${f.pinned ? ', pinned' : ''}${f.validated ? '' : ', not validated'}`;
}
