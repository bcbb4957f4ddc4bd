// Xen ELF notes: entries of name "Xen" in a PV kernel's note section that tell the domain
// builder how to load it (xen/include/public/elfnote.h).

import type { XenConstantGroup } from './types.js';

/** How a note's descriptor is encoded: NUL-terminated ASCII, or 32-bit little-endian words. */
export type ElfNoteDesc = 'string' | 'numeric';

export interface XenElfNote {
  /** Constant name, e.g. `XEN_ELFNOTE_HYPERCALL_PAGE`. */
  readonly name: string;
  /** The note type. */
  readonly value: number;
  readonly desc: ElfNoteDesc;
  readonly doc: string;
}

/** Name field of every Xen note (stored NUL-terminated: namesz = 4). */
export const XEN_ELFNOTE_NAME = 'Xen';

export const XEN_ELFNOTES: readonly XenElfNote[] = [
  { name: 'XEN_ELFNOTE_INFO', value: 0, desc: 'string', doc: 'NAME=VALUE pair.' },
  { name: 'XEN_ELFNOTE_ENTRY', value: 1, desc: 'numeric', doc: 'Virtual address of the entry point.' },
  { name: 'XEN_ELFNOTE_HYPERCALL_PAGE', value: 2, desc: 'numeric', doc: 'Virtual address of the page Xen fills with hypercall stubs.' },
  { name: 'XEN_ELFNOTE_VIRT_BASE', value: 3, desc: 'numeric', doc: 'Virtual address where the image is mapped (default 0).' },
  { name: 'XEN_ELFNOTE_PADDR_OFFSET', value: 4, desc: 'numeric', doc: 'Offset of ELF paddr from the pseudo-physical load address (default 0).' },
  { name: 'XEN_ELFNOTE_XEN_VERSION', value: 5, desc: 'string', doc: 'Version of Xen the kernel works with.' },
  { name: 'XEN_ELFNOTE_GUEST_OS', value: 6, desc: 'string', doc: 'Name of the guest OS.' },
  { name: 'XEN_ELFNOTE_GUEST_VERSION', value: 7, desc: 'string', doc: 'Version of the guest OS.' },
  { name: 'XEN_ELFNOTE_LOADER', value: 8, desc: 'string', doc: 'Loader type.' },
  { name: 'XEN_ELFNOTE_PAE_MODE', value: 9, desc: 'string', doc: 'x86_32 PAE support: "yes", "no" or "bimodal".' },
  { name: 'XEN_ELFNOTE_FEATURES', value: 10, desc: 'string', doc: '"|"-separated XENFEAT names (without prefix); "!" marks a required one.' },
  { name: 'XEN_ELFNOTE_BSD_SYMTAB', value: 11, desc: 'string', doc: 'Whether the symbol table must be loaded: "yes" or "no".' },
  { name: 'XEN_ELFNOTE_HV_START_LOW', value: 12, desc: 'numeric', doc: 'Lowest address the hypervisor hole may start at.' },
  { name: 'XEN_ELFNOTE_L1_MFN_VALID', value: 13, desc: 'numeric', doc: 'maddr_t-sized mask/value pairs recognising non-present L1 entries that hold MFNs (4-byte words for non-PAE x86_32: UNVERIFIED).' },
  { name: 'XEN_ELFNOTE_SUSPEND_CANCEL', value: 14, desc: 'numeric', doc: 'Guest supports cooperative suspend cancellation (default 0).' },
  { name: 'XEN_ELFNOTE_INIT_P2M', value: 15, desc: 'numeric', doc: 'Virtual address for the initial P2M map (x86-64 only).' },
  { name: 'XEN_ELFNOTE_MOD_START_PFN', value: 16, desc: 'numeric', doc: 'Guest accepts an initrd not mapped by its initial page tables.' },
  { name: 'XEN_ELFNOTE_SUPPORTED_FEATURES', value: 17, desc: 'numeric', doc: 'Bitmap of supported XENFEAT features.' },
  { name: 'XEN_ELFNOTE_PHYS32_ENTRY', value: 18, desc: 'numeric', doc: '32-bit physical entry point (PVH only).' },
];

export const ELFNOTE: XenConstantGroup = {
  id: 'XEN_ELFNOTE',
  doc: 'Xen ELF note types (note name "Xen").',
  source: 'xen/include/public/elfnote.h',
  distinct: true,
  constants: XEN_ELFNOTES.map(({ name, value, doc }) => ({ name, value, doc })),
};

/** Looks a note up by constant name (`XEN_ELFNOTE_GUEST_OS`) or by short name (`GUEST_OS`). */
export function xenElfNote(name: string): XenElfNote | undefined {
  const full = name.startsWith('XEN_ELFNOTE_') ? name : `XEN_ELFNOTE_${name}`;
  return XEN_ELFNOTES.find((n) => n.name === full);
}
