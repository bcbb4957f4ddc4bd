// Architectural facts of IA-32 the CPU's parts share: exception vectors, control-register,
// page-table-entry and page-fault error-code bits, and the fault an instruction raises;
// and the one fact of Xen the CPU knows: the vector of its hypercall gate.

import { xenConstant } from '../../isa/src/index.js';

/** Exception vectors. */
export const DE = 0, DB = 1, BP = 3, OFV = 4, UD = 6, GP = 13, PFV = 14;

/** The vector of Xen's hypercall gate on x86_32 (`int 0x82`, DPL 1). */
export const HYPERCALL_VECTOR = xenConstant('HYPERCALL_VECTOR')!.value;

/** Control register bits used. */
export const CR0_PE = 1, CR0_TS = 1 << 3, CR0_WP = 1 << 16, CR0_PG = 1 << 31;
export const CR4_TSD = 1 << 2, CR4_PCE = 1 << 8;

/** Page-table entry bits. */
export const PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_A = 1 << 5, PTE_D = 1 << 6;

/** Page-fault error code bits. */
export const PFEC_P = 1, PFEC_W = 2, PFEC_U = 4;

/** A fault raised inside an instruction; run() turns it into a stop. */
export class CpuFault {
  constructor(readonly vector: number, readonly errorCode: number = -1) {}
}
