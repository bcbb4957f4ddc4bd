// Memory references as the adapter's readMemory and xen/translate read them: a domain's
// virtual addresses (`d1:0x...`), its pseudo-physical addresses (`p1:0x...`) or machine
// memory (`m:0x...`).

import { hex } from './format.js';

export type AddressSpaceKind = 'virtual' | 'physical' | 'machine';

export interface MemoryLocation {
  space: AddressSpaceKind;
  /** The domain whose space it is (ignored for machine addresses). */
  domain: number;
  address: number;
}

/** Where the domain builder puts a guest kernel (virt_base): a panel opened on a domain starts there. */
export const GUEST_KERNEL_BASE = 0xc0000000;

export const SPACE_NAMES: Record<AddressSpaceKind, string> = { virtual: 'guest virtual', physical: 'pseudo-physical', machine: 'machine' };

export function memoryReference(l: MemoryLocation): string {
  const a = hex(l.address);
  return l.space === 'machine' ? `m:${a}` : l.space === 'physical' ? `p${l.domain}:${a}` : `d${l.domain}:${a}`;
}

/** The location of a reference this module wrote (null for any other text). */
export function parseMemoryReference(reference: string): MemoryLocation | null {
  const m = /^(?:([dp])(\d+)|m):(0x[0-9a-f]+|\d+)$/i.exec(reference.trim());
  if (!m) return null;
  const address = Number(m[3]) >>> 0;
  if (m[1] === undefined) return { space: 'machine', domain: 0, address };
  return { space: m[1].toLowerCase() === 'p' ? 'physical' : 'virtual', domain: Number(m[2]), address };
}

/** The machine address of frame `mfn`'s first byte, as a reference. */
export const frameReference = (mfn: number): string => memoryReference({ space: 'machine', domain: 0, address: mfn * 4096 });
