// Completion items for a position: at the start of a statement, mnemonics (with their
// documentation), macros and directives; in operands, registers, labels, constants and
// Xen's constants. Plain data: the LSP layer turns them into CompletionItems.

import { DIRECTIVES } from '../../../asm/src/syntax.js';
import { MNEMONICS, REGISTERS, XEN_CONSTANT_GROUPS } from '../../../isa/src/index.js';
import type { SymbolIndex } from './symbols.js';

export interface Completion {
  label: string;
  kind: 'mnemonic' | 'macro' | 'directive' | 'register' | 'label' | 'constant';
  detail?: string;
  documentation?: string;
}

const MNEMONIC_ITEMS: readonly Completion[] = Object.entries(MNEMONICS).map(([m, info]) => ({
  label: m, kind: 'mnemonic', detail: info.cls === 'normal' ? info.group : `${info.group}, ${info.cls}`, documentation: info.doc + (info.pv ? `\n\nParavirtual: ${info.pv}` : ''),
}));
const DIRECTIVE_ITEMS: readonly Completion[] = [...DIRECTIVES].map((d) => ({ label: d, kind: 'directive' }));
const REGISTER_ITEMS: readonly Completion[] = REGISTERS.map((r) => ({ label: r.name, kind: 'register', detail: `${r.bits}-bit ${r.cls}` }));
const XEN_ITEMS: readonly Completion[] = XEN_CONSTANT_GROUPS.flatMap((g) => g.constants.map((c) => ({ label: c.name, kind: 'constant' as const, detail: `= ${c.value}`, documentation: c.doc })));

/** `line` is the text of the line up to the cursor. */
export function completionsAt(line: string, index: SymbolIndex | null): Completion[] {
  const beforeWord = line.replace(/[\w.$@?#~]*$/, '');
  // The statement's first word: nothing but an optional label before it.
  const statementStart = /^\s*([\w.$@?]+:\s*)?$/.test(beforeWord) && !/^\s*[\w.$@?]+\s+$/.test(beforeWord);
  const defined = index ? [...index.definitions.values()] : [];
  if (statementStart) {
    const macros = defined.filter((d) => d.kind === 'macro').map((d): Completion => ({ label: d.name, kind: 'macro', detail: d.text }));
    return [...MNEMONIC_ITEMS, ...macros, ...DIRECTIVE_ITEMS];
  }
  const symbols = defined
    .filter((d) => d.kind !== 'macro')
    .map((d): Completion => ({ label: d.name, kind: d.kind === 'constant' || d.kind === 'define' ? 'constant' : 'label', detail: d.value !== undefined ? `0x${d.value.toString(16)}` : d.text }));
  const have = new Set(symbols.map((s) => s.label));
  return [...REGISTER_ITEMS, ...symbols, ...XEN_ITEMS.filter((x) => !have.has(x.label))];
}
