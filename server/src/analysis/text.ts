// Positions in source files and the comments on their lines: spans to 0-based ranges,
// a line's comment (the text after the first `;` outside quotes), the annotations
// `; xenolab: <word>` and the per-line suppression `; xenolab-ignore: <code>, ...`.

import { lineColumn, type SourceFile, type Span } from '../../../asm/src/index.js';
import type { Position, Range } from './types.js';

/** 0-based line of an offset. */
export function lineOf(file: SourceFile, offset: number): number {
  return lineColumn(file, offset).line - 1;
}

export function positionOf(file: SourceFile, offset: number): Position {
  const o = Math.max(0, Math.min(offset, file.text.length));
  const line = lineOf(file, o);
  return { line, column: o - file.lineStarts[line] };
}

export function rangeOf(file: SourceFile, start: number, end: number): Range {
  return { start: positionOf(file, start), end: positionOf(file, Math.max(start, end)) };
}

export function spanRange(files: readonly SourceFile[], span: Span): { file: string; range: Range } | null {
  const f = files[span.file];
  if (!f) return null;
  return { file: f.path, range: rangeOf(f, span.start, span.end) };
}

/**
 * A span cut at the end of the code of the line it starts on (before a comment): a
 * statement in a macro body reaches to the call's arguments when they are in the same file
 * (its span's end is its last token's).
 */
export function onItsLine(files: readonly SourceFile[], span: Span): Span {
  const f = files[span.file];
  if (!f) return span;
  const line = lineBounds(f, lineOf(f, span.start));
  if (span.end <= line.end) return span;
  const comment = commentStart(f.text, span.start, line.end);
  let end = comment < 0 ? line.end : comment;
  while (end > span.start && (f.text.charCodeAt(end - 1) === 32 || f.text.charCodeAt(end - 1) === 9)) end--;
  return { file: span.file, start: span.start, end };
}

/** Offsets of line `line` (0-based): its start and the end of its content (before the line break). */
export function lineBounds(file: SourceFile, line: number): { start: number; end: number } {
  const starts = file.lineStarts;
  const start = starts[line] ?? file.text.length;
  let end = line + 1 < starts.length ? starts[line + 1] : file.text.length;
  while (end > start && (file.text.charCodeAt(end - 1) === 10 || file.text.charCodeAt(end - 1) === 13)) end--;
  return { start, end };
}

/** Offset of the `;` that starts the comment in text[start, end), or -1. */
export function commentStart(text: string, start: number, end: number): number {
  let quote = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (quote === 96 && c === 92) i++; // backquoted strings have escapes
      else if (c === quote) quote = 0;
    } else if (c === 39 || c === 34 || c === 96) quote = c;
    else if (c === 59) return i;
  }
  return -1;
}

/** The comment text (after `;`) of a 0-based line, or ''. */
export function lineComment(file: SourceFile, line: number): string {
  const { start, end } = lineBounds(file, line);
  const at = commentStart(file.text, start, end);
  return at < 0 ? '' : file.text.slice(at + 1, end);
}

const IGNORE = /xenolab-ignore:\s*([A-Za-z0-9_\-*]+(?:\s*,\s*[A-Za-z0-9_\-*]+)*)/g;

/** The rule codes a comment silences (`xenolab-ignore: a, b`; `all` or `*` for every rule). */
export function ignoredCodes(comment: string): string[] {
  const out: string[] = [];
  for (const m of comment.matchAll(IGNORE)) for (const c of m[1].split(',')) out.push(c.trim());
  return out;
}

/** Whether a comment carries the annotation `xenolab: <word>`. */
export function hasAnnotation(comment: string, word: string): boolean {
  const re = new RegExp(`xenolab:\\s*${word.replace(/[-]/g, '\\-')}(?![\\w-])`);
  return re.test(comment);
}

/** Per 0-based line of a file: the codes silenced on it (computed once per file, lazily). */
export class Suppressions {
  private readonly cache = new Map<number, Map<number, string[]>>();

  constructor(private readonly files: readonly SourceFile[]) {}

  silenced(fileId: number, line: number, code: string): boolean {
    const f = this.files[fileId];
    if (!f) return false;
    let lines = this.cache.get(fileId);
    if (!lines) this.cache.set(fileId, (lines = new Map()));
    let codes = lines.get(line);
    if (!codes) lines.set(line, (codes = ignoredCodes(lineComment(f, line))));
    return codes.includes(code) || codes.includes('all') || codes.includes('*');
  }
}
