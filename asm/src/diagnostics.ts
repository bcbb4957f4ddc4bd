// Located problems reported by the parser, preprocessor and assembler.

import { lineColumn, type SourceFile } from './source.js';
import type { Span } from './syntax.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Related {
  span: Span;
  message: string;
}

export interface Diagnostic {
  severity: Severity;
  /** Stable identifier, e.g. 'syntax', 'undefined-symbol', 'operand-size'. */
  code: string;
  message: string;
  /** Where the problem is, in the file being assembled whenever possible. */
  span: Span;
  /** Further locations: the macro body or include line the problem came from. */
  related: Related[];
}

/**
 * Problems one stage (the preprocessor, the assembler) lists at most; past it they are
 * counted. Some inputs make one per line of a huge expansion (includes that include each
 * other), each with its include frames as related places: an editor would wait seconds.
 */
export const MAX_DIAGNOSTICS = 1000;

/** Diagnostics of one stage, at most MAX_DIAGNOSTICS of them, and one saying how many more there were. */
export class DiagnosticList {
  readonly items: Diagnostic[] = [];
  private omitted = 0;
  private omittedErrors = false;

  /** Whether one more fits (else it is counted: call before building it). */
  room(severity: Severity): boolean {
    if (this.items.length < MAX_DIAGNOSTICS) return true;
    this.omitted++;
    if (severity === 'error') this.omittedErrors = true;
    return false;
  }

  /** The list, with a closing note of those left out (at the start of the root file). */
  finish(): Diagnostic[] {
    if (this.omitted > 0) {
      this.items.push({
        severity: this.omittedErrors ? 'error' : 'warning', code: 'too-many-problems', span: { file: 0, start: 0, end: 0 }, related: [],
        message: `${this.omitted} more problems are not listed (only the first ${MAX_DIAGNOSTICS} are)`,
      });
      this.omitted = 0;
    }
    return this.items;
  }
}

/** `file:line:col: error: message`, the format of compilers and of `nasm -Xgnu`. */
export function formatDiagnostic(d: Diagnostic, files: readonly SourceFile[]): string {
  const where = (s: Span) => {
    const f = files[s.file];
    if (!f) return '<unknown>';
    const { line, column } = lineColumn(f, s.start);
    return `${f.path}:${line}:${column}`;
  };
  const lines = [`${where(d.span)}: ${d.severity}: ${d.message}`];
  for (const r of d.related) lines.push(`${where(r.span)}: note: ${r.message}`);
  return lines.join('\n');
}
