// The assembler's own diagnostics (syntax, operands, symbols, directives, macros,
// includes), passed through with code `asm`: the assembler already places them in the
// analysed file, with the macro body or include line they came from as related information.

import type { AssembleResult } from '../../../../asm/src/index.js';
import type { Reporter } from '../report.js';

export function checkAssembler(result: AssembleResult, report: Reporter): void {
  for (const d of result.diagnostics) {
    report.add({
      code: 'asm', at: d.span, severity: d.severity,
      message: d.message,
      related: d.related.map((r) => ({ span: r.span, message: r.message })),
    });
  }
}
