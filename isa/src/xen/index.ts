// The Xen PV ABI (x86_32, non-PAE 2-level paging, modern hypercall numbers) as data.
export type * from './types.js';
export * from './hypercalls.js';
export * from './constants.js';
export * from './errno.js';
export * from './elfnotes.js';
export * from './structs.js';
export * from './rings.js';
