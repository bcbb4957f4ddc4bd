// Completion items for a position: at the start of a statement, mnemonics (with their
// operand forms and documentation), macros, directives and a snippet per hypercall that
// sets its argument registers and makes the call; in operands, registers, labels,
// constants and Xen's constants; after `%`, preprocessor directives (or functions, inside
// a line). Plain data: the LSP layer turns them into CompletionItems.

import { PREPROCESSOR_DIRECTIVES, PREPROCESSOR_FUNCTIONS } from '../../../asm/src/index.js';
import { DIRECTIVES } from '../../../asm/src/syntax.js';
import { HYPERCALL_ARG_REGISTERS, HYPERCALLS, MNEMONICS, PREFIXES, REGISTERS, XEN_CONSTANT_GROUPS } from '../../../isa/src/index.js';
import { HYPERCALL_MACRO_BEFORE, operandForms } from './hover.js';
import { isLocalName, type SymbolIndex } from './symbols.js';

export interface Completion {
  label: string;
  kind: 'mnemonic' | 'macro' | 'directive' | 'register' | 'label' | 'constant' | 'snippet';
  detail?: string;
  documentation?: string;
  /** What to insert instead of the label, in LSP snippet syntax (`${1:name}` placeholders). */
  snippet?: string;
}

const MNEMONIC_ITEMS: readonly Completion[] = Object.entries(MNEMONICS).map(([m, info]) => {
  const forms = operandForms(m);
  return {
    label: m, kind: 'mnemonic', detail: info.cls === 'normal' ? info.group : `${info.group}, ${info.cls}`,
    documentation: [info.doc, info.pv ? `Paravirtual: ${info.pv}` : '', forms.slice(0, 6).join('\n') + (forms.length > 6 ? '\n…' : '')].filter(Boolean).join('\n\n'),
  };
});

/** A hypercall with its arguments in ebx, ecx, ...: through xen.inc's HYPERCALL macro, or `int 0x82` without it. */
function hypercallSnippets(xenInc: boolean): Completion[] {
  return HYPERCALLS.map((h) => {
    const args = h.args.map((a, i) => `mov ${HYPERCALL_ARG_REGISTERS[i]}, \${${i + 1}:${a.name}}\t; ${a.cType} ${a.name}`);
    const call = xenInc ? [`HYPERCALL ${h.name}`] : [`mov eax, ${h.number}\t; __HYPERVISOR_${h.name}`, 'int 0x82'];
    return {
      label: `HYPERCALL ${h.name}`, kind: 'snippet', detail: `hypercall ${h.number}(${h.args.map((a) => a.name).join(', ')})`,
      documentation: h.doc, snippet: [...args, ...call].join('\n') + '$0',
    };
  });
}
const SNIPPETS = { xenInc: hypercallSnippets(true), plain: hypercallSnippets(false) };
const DIRECTIVE_ITEMS: readonly Completion[] = [...DIRECTIVES].map((d) => ({ label: d, kind: 'directive' }));
const PREPROCESSOR_ITEMS: readonly Completion[] = PREPROCESSOR_DIRECTIVES.map(([label, detail]) => ({ label, kind: 'directive', detail }));
const FUNCTION_ITEMS: readonly Completion[] = PREPROCESSOR_FUNCTIONS.map(([label, detail]) => ({ label, kind: 'directive', detail, snippet: `${label}(\${1})$0` }));
const REGISTER_ITEMS: readonly Completion[] = REGISTERS.map((r) => ({ label: r.name, kind: 'register', detail: `${r.bits}-bit ${r.cls}` }));
const XEN_ITEMS: readonly Completion[] = XEN_CONSTANT_GROUPS.flatMap((g) => g.constants.map((c) => ({ label: c.name, kind: 'constant' as const, detail: `= ${c.value}`, documentation: c.doc })));

/**
 * The two lists an index gives (a statement's first word, an operand), made when first
 * asked for: completion is asked for on most keystrokes, the index changes with the text.
 */
const LISTS = new WeakMap<SymbolIndex, { statement?: Completion[]; operand?: Completion[] }>();

/** Where the word being completed at the end of `line` starts (a `%name`, or a name with `.`, `$`, `@`...). */
export function completionWordStart(line: string): number {
  const percent = /(?<!%)%[A-Za-z_]*$/.exec(line);
  return percent ? percent.index : line.length - /[\w.$@?#~]*$/.exec(line)![0].length;
}

/** A snippet as plain text, for clients without snippets: placeholders become their text, tab stops nothing. */
export function snippetText(snippet: string): string {
  return snippet.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{\d+\}|\$\d+/g, '');
}

/**
 * `line` is the text of the line up to the cursor; `scope` gives the label whose locals a
 * `.name` there would be (asked only for one). The list returned is shared: do not change it.
 */
export function completionsAt(line: string, index: SymbolIndex | null, scope?: () => string | undefined): readonly Completion[] {
  if (inCommentOrString(line)) return NONE;
  // `%de`: a preprocessor directive at the start of a line, a function (`%eval(`) elsewhere
  // (not `%%label`, `%1` or `%$name`: the macro's own names)
  const start = completionWordStart(line);
  if (line[start] === '%') return /^\s*$/.test(line.slice(0, start)) ? PREPROCESSOR_ITEMS : FUNCTION_ITEMS;
  const word = line.slice(start);
  // `.lo`: a local label of the label above, as it is written there
  if (index && scope && isLocalName(word)) {
    const label = scope();
    if (label !== undefined) return localItems(index, label);
  }
  if (HYPERCALL_MACRO_BEFORE.test(line.slice(0, line.length - word.length))) return HYPERCALL_NAME_ITEMS;
  const beforeWord = line.slice(0, line.length - word.length).replace(PREFIXES_BEFORE, '');
  // The statement's first word: nothing but an optional label (and instruction prefixes) before it.
  const statementStart = /^\s*([\w.$@?]+:\s*)?$/.test(beforeWord) && !/^\s*[\w.$@?]+\s+$/.test(beforeWord);
  if (!index) return completions(statementStart, null);
  let lists = LISTS.get(index);
  if (!lists) LISTS.set(index, (lists = {}));
  return statementStart ? (lists.statement ??= completions(true, index)) : (lists.operand ??= completions(false, index));
}

const NONE: readonly Completion[] = [];
/** The names xen.inc's hypercall macros take. */
const HYPERCALL_NAME_ITEMS: readonly Completion[] = HYPERCALLS.map((h) => ({
  label: h.name, kind: 'constant', detail: `hypercall ${h.number}(${h.args.map((a) => a.name).join(', ')})`, documentation: h.doc,
}));

/** The end of `line` is inside a comment or a string (nothing to complete there). */
function inCommentOrString(line: string): boolean {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '`') i++;
    } else if (c === ';') return true;
    else if (c === "'" || c === '"' || c === '`') quote = c;
  }
  return quote !== '';
}

/** Instruction prefixes (`rep`, `lock`, ...) right before the word: a mnemonic comes after them. */
const PREFIXES_BEFORE = new RegExp(`(?:\\b(?:${Object.keys(PREFIXES).join('|')})\\s+)+$`, 'i');

/** The locals of label `scope`, as `.name`. */
function localItems(index: SymbolIndex, scope: string): readonly Completion[] {
  let byScope = LOCALS.get(index);
  if (!byScope) LOCALS.set(index, (byScope = new Map()));
  let items = byScope.get(scope);
  if (!items) {
    items = [];
    for (const d of index.definitions.values()) {
      if (d.kind === 'local' && d.parent === scope) items.push({ label: d.name.slice(scope.length), kind: 'label', detail: d.value !== undefined ? `0x${d.value.toString(16)}` : d.text });
    }
    byScope.set(scope, items);
  }
  return items;
}
const LOCALS = new WeakMap<SymbolIndex, Map<string, Completion[]>>();

function completions(statementStart: boolean, index: SymbolIndex | null): Completion[] {
  const defined = index ? [...index.definitions.values()] : [];
  if (statementStart) {
    const macros = defined.filter((d) => d.kind === 'macro').map((d): Completion => ({ label: d.name, kind: 'macro', detail: d.text }));
    const xenInc = index?.definitions.get('HYPERCALL')?.kind === 'macro';
    return [...MNEMONIC_ITEMS, ...macros, ...DIRECTIVE_ITEMS, ...(xenInc ? SNIPPETS.xenInc : SNIPPETS.plain)];
  }
  const symbols = defined
    .filter((d) => d.kind !== 'macro')
    .map((d): Completion => ({ label: d.name, kind: d.kind === 'constant' || d.kind === 'define' ? 'constant' : 'label', detail: d.value !== undefined ? `0x${d.value.toString(16)}` : d.text }));
  const have = new Set(symbols.map((s) => s.label));
  return [...REGISTER_ITEMS, ...symbols, ...XEN_ITEMS.filter((x) => !have.has(x.label))];
}
