// Shared by the analysis tests: fixture files, a provider over them, applying fix edits.

import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { withBuiltins, xenIncludeSource, type SourceProvider } from '../../../asm/src/index.js';
import type { AnalysisOptions, Severity, TextEdit } from '../../src/analysis/index.js';

export const FIXTURES = join(__dirname, 'fixtures');
export const SEEDS = join(__dirname, '..', '..', '..', 'seeds');

/** Every .xasm fixture, by name. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.xasm')).sort();
}

/** %include resolved next to the including file (fixtures include each other by name). */
export const provider: SourceProvider = withBuiltins({
  read(path, from) {
    const full = path.startsWith('/') ? path : join(dirname(from), path);
    try {
      return { path: full, text: readFileSync(full, 'utf8') };
    } catch {
      return null;
    }
  },
});

/** File texts for related-information markers (the built-in xen.inc included). */
export function readText(path: string): string | undefined {
  if (basename(path) === 'xen.inc' && path.startsWith('<builtin>')) return xenIncludeSource();
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A fixture's `; options: code=severity ...` line, as analysis options. */
export function optionsOf(text: string): AnalysisOptions {
  const m = /^; options:(.*)$/m.exec(text);
  if (!m) return {};
  const rules: Record<string, Severity | 'off'> = {};
  for (const kv of m[1].trim().split(/\s+/)) {
    const [k, v] = kv.split('=');
    rules[k] = v as Severity | 'off';
  }
  return { rules };
}

/** Offset of a 0-based line and column. */
export function offsetAt(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return text.length;
    at = nl + 1;
  }
  return Math.min(at + column, text.length);
}

/** Applies edits to one file's text (all edits must be for it). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const spans = edits.map((e) => ({ start: offsetAt(text, e.range.start.line, e.range.start.column), end: offsetAt(text, e.range.end.line, e.range.end.column), text: e.newText }));
  spans.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}
