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
