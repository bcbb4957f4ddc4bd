// The analysis core's public shapes. No LSP types: positions are 0-based lines and
// columns (UTF-16 code units, as JavaScript strings and LSP count them).

import type { SourceProvider } from '../../../asm/src/index.js';
import type { Context } from './context.js';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface Position {
  line: number;
  column: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface RelatedInfo {
  file: string;
  range: Range;
  message: string;
}

export interface TextEdit {
  file: string;
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Finding {
  /** A stable rule code (see RULES), or `asm` for the assembler's own diagnostics. */
  code: string;
  severity: Severity;
  file: string;
  range: Range;
  message: string;
  related: RelatedInfo[];
  fixes: Fix[];
}

export interface AnalysisOptions {
  /** Severity per rule code, or 'off'. Assembler errors (`asm`) are never lowered or hidden. */
  rules?: Record<string, Severity | 'off'>;
}

export interface AnalysisInput {
  path: string;
  text: string;
  /** Reads %include files; the built-in xen.inc is added when it lacks it. */
  provider: SourceProvider;
  /**
   * Include files the host knows besides xen.inc (e.g. the .inc files next to the document),
   * as `%include` would name them: a name the document uses and one of them defines gets an
   * "Add %include" fix.
   */
  includeCandidates?: readonly string[];
  /**
   * Whether a name the file uses without defining it is defined where the file is
   * included (an include file is assembled as part of the file that includes it): such a
   * name is not reported as undefined. Asked only about names the assembly lacks.
   */
  definedByIncluder?: (name: string) => boolean;
}

export interface AnalysisResult {
  findings: Finding[];
  /** The program, its control-flow graph and dataflow the findings came from (absent when the analysis failed). */
  context?: Context;
}
