// Every rule the analysis reports: its stable code, default severity and one line of what
// it finds. The codes are public (settings, `; xenolab-ignore:` comments, the CLI).

import type { Severity } from './types.js';

export interface RuleInfo {
  readonly code: string;
  readonly severity: Severity;
  readonly summary: string;
}

export const RULES: readonly RuleInfo[] = [
  // asm's severity is its warnings' (its errors stay errors)
  { code: 'asm', severity: 'warning', summary: 'An error or warning of the assembler (syntax, operands, symbols, directives, macros, includes).' },
  { code: 'privileged-instruction', severity: 'error', summary: 'An instruction that traps to Xen in ring 1, where a PV guest kernel runs (#GP for most, emulated at a trap\'s cost for a few); names its paravirtual replacement.' },
  { code: 'sensitive-instruction', severity: 'warning', summary: 'An instruction that runs in ring 1 without trapping but silently does something else than on bare hardware.' },
  { code: 'unbatched-pt-loop', severity: 'warning', summary: 'A single-entry mmu_update / update_va_mapping issued on every iteration of a loop (directly, from a macro or through a called function).' },
  { code: 'unbatched-pt-sequence', severity: 'warning', summary: 'Consecutive single-entry page-table hypercalls in straight-line code that one batch or one multicall could do.' },
  { code: 'pt-direct-store', severity: 'warning', summary: 'A store into memory known to be a page table (derived from start_info.pt_base, or a label annotated `; xenolab: page-table`).' },
  { code: 'unknown-hypercall', severity: 'error', summary: 'int 0x82 with a constant eax that is no hypercall (or one a 32-bit PV guest has no handler for), a call into the hypercall page that hits no stub, a multicall entry whose op is none, a call to iret\'s stub (it must be jumped to), or the iret hypercall without eax pushed.' },
  { code: 'hypercall-arg-unset', severity: 'warning', summary: 'A register the hypercall reads (its number or an argument) is not set on every path to it: never set, overwritten by an earlier hypercall (the ABI clobbers argument registers), or left from the code a handler interrupted.' },
  { code: 'hypercall-arg-pointer', severity: 'error', summary: 'A small constant (0, a command or flag value) where the hypercall reads a pointer: Xen fails the call with -EFAULT.' },
  { code: 'bad-hypercall-command', severity: 'error', summary: 'A constant command that is not one of the hypercall\'s (MMUEXT_*, EVTCHNOP_*, SCHEDOP_*, ...), or a constant of another hypercall\'s group.' },
  { code: 'hypercall-from-ring3', severity: 'error', summary: 'A hypercall reachable from code annotated `; xenolab: ring3` (the hypercall gate only admits ring 1).' },
  { code: 'hypervisor-hole-store', severity: 'error', summary: 'A store to a constant address in the hypervisor\'s reserved top of the address space (at or above HYPERVISOR_VIRT_START; HYPERVISOR_VIRT_START_PAE for a kernel whose PAE_MODE note says it runs with PAE).' },
];

export const RULE_BY_CODE: ReadonlyMap<string, RuleInfo> = new Map(RULES.map((r) => [r.code, r]));
