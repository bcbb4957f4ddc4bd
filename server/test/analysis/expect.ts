// Expected findings written inline in fixture files, and their comparison with analyze().
//
// Markers are comment lines; each refers to the nearest line above it that is not a marker:
//
//     cli
// ;   ^^^ error privileged-instruction
//     HYPERCALL_PAGE_CALL mmu_update
// ; expect: warning unbatched-pt-loop "saves 1023"
// ; related: xen.inc:1188
//
//   `; ^^^ <severity> <code> ["text"]`  a finding whose range is exactly the carets' columns
//   `; expect: <severity> <code> ["text"]`  a finding starting on that line (any columns)
//   "text", when given, must occur in the message.
//   `; related: <file>:<line>`  the finding of the marker just above has related information
//   at that 1-based line of a file with that name (the last path component);
//   `; related: <file> "text"`  ... at a line of that file containing the text.
//
// Every finding must match one marker, and every marker one finding.

import type { Finding } from '../../src/analysis/index.js';

export interface Expectation {
  /** 0-based line of the code line. */
  line: number;
  columns: { start: number; end: number } | null;
  severity: string;
  code: string;
  contains: string | null;
  related: { file: string; line: number | null; text: string | null }[];
  /** 1-based line of the marker, for messages. */
  marker: number;
}

const CARETS = /^(\s*;\s*)(\^+)\s+(error|warning|info|hint)\s+([\w-]+)(?:\s+"([^"]*)")?\s*$/;
const EXPECT = /^\s*;\s*expect:\s*(error|warning|info|hint)\s+([\w-]+)(?:\s+"([^"]*)")?\s*$/;
const RELATED = /^\s*;\s*related:\s*(?:(\S+):(\d+)|(\S+)\s+"([^"]*)")\s*$/;

export function isMarker(line: string): boolean {
  return CARETS.test(line) || EXPECT.test(line) || RELATED.test(line);
}

export function parseExpectations(text: string): Expectation[] {
  const lines = text.split(/\r?\n/);
  const out: Expectation[] = [];
  let code = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    let m: RegExpExecArray | null;
    if ((m = CARETS.exec(l))) {
      const start = m[1].length;
      out.push({ line: code, columns: { start, end: start + m[2].length }, severity: m[3], code: m[4], contains: m[5] ?? null, related: [], marker: i + 1 });
    } else if ((m = EXPECT.exec(l))) {
      out.push({ line: code, columns: null, severity: m[1], code: m[2], contains: m[3] ?? null, related: [], marker: i + 1 });
    } else if ((m = RELATED.exec(l))) {
      const last = out[out.length - 1];
      if (!last) throw new Error(`line ${i + 1}: 'related:' without a marker above it`);
      last.related.push(m[1] !== undefined ? { file: m[1], line: Number(m[2]), text: null } : { file: m[3], line: null, text: m[4] });
    } else code = i;
  }
  for (const e of out) if (e.line < 0) throw new Error(`marker on line ${e.marker} has no code line above it`);
  return out;
}

/** The text of a file by path (for `related: file "text"`). */
export type ReadText = (path: string) => string | undefined;

function lineText(read: ReadText, path: string, line: number): string {
  return read(path)?.split(/\r?\n/)[line] ?? '';
}

function matches(f: Finding, e: Expectation, read: ReadText): boolean {
  if (f.range.start.line !== e.line || f.severity !== e.severity || f.code !== e.code) return false;
  if (e.columns && (f.range.start.column !== e.columns.start || f.range.end.line !== e.line || f.range.end.column !== e.columns.end)) return false;
  if (e.contains !== null && !f.message.includes(e.contains)) return false;
  for (const r of e.related) {
    if (!f.related.some((x) => x.file.split(/[/\\]/).pop() === r.file &&
      (r.line !== null ? x.range.start.line + 1 === r.line : lineText(read, x.file, x.range.start.line).includes(r.text!)))) return false;
  }
  return true;
}

function show(f: Finding): string {
  const rel = f.related.map((r) => `\n      related ${r.file.split(/[/\\]/).pop()}:${r.range.start.line + 1}: ${r.message}`).join('');
  return `${f.range.start.line + 1}:${f.range.start.column}-${f.range.end.line + 1}:${f.range.end.column} ${f.severity} ${f.code}: ${f.message}${rel}`;
}

/** The differences between findings and expectations, as readable lines (empty when they agree). */
export function compare(findings: readonly Finding[], expected: readonly Expectation[], file: string, read: ReadText): string[] {
  const left = [...expected];
  const problems: string[] = [];
  for (const f of findings) {
    if (f.file !== file) {
      problems.push(`finding in another file (${f.file}): ${show(f)}`);
      continue;
    }
    const i = left.findIndex((e) => matches(f, e, read));
    if (i < 0) problems.push(`unexpected: ${show(f)}`);
    else left.splice(i, 1);
  }
  for (const e of left) {
    const cols = e.columns ? ` columns ${e.columns.start}-${e.columns.end}` : '';
    problems.push(`missing (marker line ${e.marker}): line ${e.line + 1}${cols} ${e.severity} ${e.code}${e.contains ? ` "${e.contains}"` : ''}${e.related.map((r) => ` related ${r.file}${r.line !== null ? `:${r.line}` : ` "${r.text}"`}`).join('')}`);
  }
  return problems;
}
