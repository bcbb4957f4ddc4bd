// Source files known to one assembly, and conversions between offsets and line:column.

import type { Span } from './syntax.js';

export interface SourceFile {
  /** Index in the assembly's file table; tokens and spans refer to it. */
  id: number;
  /** Path as given by the caller or resolved by %include. */
  path: string;
  text: string;
  /** Offset at which each line starts (line 1 is index 0); computed when first asked for. */
  readonly lineStarts: readonly number[];
}

/** The directory of a `/`-separated path (`/` for a file at the root). */
export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** `rel` against directory `dir` (or `rel` itself when absolute), with `.` and `..` resolved. */
export function resolvePath(dir: string, rel: string): string {
  const parts = (rel.startsWith('/') ? rel : `${dir}/${rel}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

export function makeSourceFile(id: number, path: string, text: string): SourceFile {
  let starts: number[] | null = null;
  return {
    id, path, text,
    get lineStarts() {
      return (starts ??= lineStartsOf(text));
    },
  };
}

function lineStartsOf(text: string): number[] {
  if (text.indexOf('\r') < 0) {
    // Only \n line ends (the usual case): let indexOf find them, counted first so the
    // array is made at its size (pushing copies it a dozen times on the way).
    let n = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    const starts = new Array<number>(n);
    starts[0] = 0;
    for (let i = text.indexOf('\n'), k = 1; i >= 0; i = text.indexOf('\n', i + 1)) starts[k++] = i + 1;
    return starts;
  }
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) lineStarts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      lineStarts.push(i + 1);
    }
  }
  return lineStarts;
}

/** 1-based line and column of an offset. */
export function lineColumn(file: SourceFile, offset: number): { line: number; column: number } {
  const starts = file.lineStarts;
  const lo = lineIndex(starts, offset);
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

/** The 0-based line holding an offset, given the offsets at which lines start. */
export function lineIndex(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Reads include files. `from` is the path of the including file. */
export interface SourceProvider {
  read(path: string, from: string): { path: string; text: string } | null;
  /** Binary files for `incbin`. */
  readBinary?(path: string, from: string): { path: string; bytes: Uint8Array } | null;
  /** An environment variable, for `%ifenv` (none when absent: the editor and the browser have no environment). */
  env?(name: string): string | undefined;
}

export type { Span };
