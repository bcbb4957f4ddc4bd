// Signature help for macro invocations: the macro's name and parameters (named from the
// comment before its `%macro` line when that comment starts `NAME a, b:`, as xen.inc's do,
// else %1, %2, ...; optional ones in brackets with their defaults), how many it takes, its
// comment as documentation, and the parameter the cursor is in (counted by the commas
// before it, as the preprocessor splits a call).

import { BUILTIN_PREFIX, splitArgs, tokenize } from '../../../asm/src/index.js';
import type { Definition, SymbolIndex } from './symbols.js';

export interface MacroSignature {
  /** `HYPERCALL name`, `XEN_ELFNOTE TYPE, desc...`. */
  label: string;
  /** The parameters, as [start, end) offsets into the label. */
  parameters: [number, number][];
  /** What the macro takes, and the comment before it. */
  documentation: string;
  activeParameter: number;
}

interface Arity {
  min: number;
  /** Infinity for `*`. */
  max: number;
  /** The last parameter takes the rest of the line, commas included. */
  greedy: boolean;
  /** Values of the optional parameters (from the min+1-th on) when the call leaves them out. */
  defaults: string[];
}

/** `%macro NAME 1`, `2+`, `1-3 x, y` (with defaults), `0-*` (`.nolist` ignored). */
export function macroArity(definitionLine: string): Arity | null {
  const m = /^\s*%i?macro\s+\S+\s+(\d+)(?:\s*-\s*(\d+|\*))?(\+)?(?:\.nolist)?(.*)$/i.exec(definitionLine);
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[2] === '*' ? Infinity : Number(m[2]);
  const rest = tokenize(m[4]).filter((t) => t.kind !== 'newline' && t.kind !== 'comment');
  const defaults = rest.length ? splitArgs(rest).map((arg) => arg.map((t) => t.text).join('').trim()) : [];
  return { min, max: Math.max(min, max), greedy: m[3] !== undefined, defaults };
}

/** The comment lines just above a definition, without their `;`. */
export function commentAbove(index: SymbolIndex, d: Definition): string[] {
  const f = index.files.get(d.file);
  if (!f) return [];
  const lines = f.text.split('\n');
  const out: string[] = [];
  for (let l = d.range.start.line - 1; l >= 0; l--) {
    const m = /^\s*;+ ?(.*?)\s*$/.exec(lines[l]);
    if (!m) break;
    out.unshift(m[1]);
  }
  return out;
}

/** The macro invocation the cursor is in and its parameter. `line` is the line's text up to the cursor. */
export function macroSignatureAt(line: string, index: SymbolIndex | null): MacroSignature | null {
  if (!index) return null;
  const tokens = tokenize(line).filter((t) => t.kind !== 'newline');
  if (tokens.some((t) => t.kind === 'comment')) return null;
  let i = 0;
  if (tokens[0]?.kind === 'ident' && tokens[1]?.text === ':') i = 2;
  const name = tokens[i];
  if (!name || name.kind !== 'ident' || line.length <= name.end || !/\s/.test(line[name.end])) return null;
  const d = macroNamed(index, name.text);
  if (!d) return null;
  const arity = macroArity(d.text);
  if (!arity) return null;
  // the parameters as the preprocessor splits a macro call (commas inside { } do not count)
  const commas = Math.max(0, splitArgs(tokens, i + 1, false).length - 1);
  return signature(index, d, arity, commas);
}

function macroNamed(index: SymbolIndex, name: string): Definition | undefined {
  const exact = index.definitions.get(name);
  if (exact) return exact.kind === 'macro' ? exact : undefined;
  // %imacro, %irmacro: any case
  const lower = name.toLowerCase();
  for (const d of index.definitions.values()) if (d.kind === 'macro' && /^\s*%i/i.test(d.text) && d.name.toLowerCase() === lower) return d;
  return undefined;
}

function signature(index: SymbolIndex, d: Definition, arity: Arity, commas: number): MacroSignature {
  let doc = commentAbove(index, d);
  const shown = Math.max(arity.min, Number.isFinite(arity.max) ? arity.max : arity.min + 1);
  // names from a comment line that starts `NAME a, b...:` (the documentation starts there)
  const headRe = new RegExp(`^${d.name.replace(/[$.?]/g, '\\$&')}\\s+([^:;]+):`);
  const at = doc.findIndex((l) => headRe.test(l));
  let names: string[] = [];
  if (at >= 0) {
    names = headRe.exec(doc[at])![1].split(',').map((s) => s.trim()).filter(Boolean);
    doc = doc.slice(at);
  }
  if (names.length < arity.min || names.length > shown || names.some((n) => /\s/.test(n))) {
    names = Array.from({ length: shown }, (_, k) => `%${k + 1}`);
  }
  let label = d.name;
  const parameters: [number, number][] = [];
  names.forEach((n, k) => {
    label += k === 0 ? ' ' : ', ';
    // an optional one in brackets, with the value it has when left out
    const value = arity.defaults[k - arity.min];
    const shownName = k < arity.min ? n : `[${n}${value !== undefined ? ` = ${value}` : ''}]`;
    parameters.push([label.length, label.length + shownName.length]);
    label += shownName;
  });
  const where = d.file.startsWith(BUILTIN_PREFIX) ? 'built-in xen.inc' : `${d.file.slice(d.file.lastIndexOf('/') + 1)}:${d.range.start.line + 1}`;
  const takes = arity.min === arity.max ? `${arity.min}` : Number.isFinite(arity.max) ? `${arity.min} to ${arity.max}` : `${arity.min} or more`;
  const documentation = [
    `macro (${where}), ${takes} parameter${arity.max === 1 && arity.min === 1 ? '' : 's'}${arity.greedy ? ', the last one takes the rest of the line' : ''}`,
    ...(doc.length ? ['', doc.join('\n')] : []),
  ].join('\n');
  const last = parameters.length - 1;
  const activeParameter = Math.max(0, arity.greedy || !Number.isFinite(arity.max) ? Math.min(commas, last) : commas);
  return { label, parameters, documentation, activeParameter };
}
