// The assembler's own diagnostics (syntax, operands, symbols, directives, macros,
// includes), passed through with code `asm`: the assembler already places them in the
// analysed file, with the macro body or include line they came from as related information.
// An undefined name gets a fix where one is clear: the include that defines it, or a stub
// for a missing jump or call target (fixes/symbols.ts).

import type { AssembleResult } from '../../../../asm/src/index.js';
import { SymbolFixes, type IncludeSource } from '../fixes/symbols.js';
import type { Reporter } from '../report.js';

export function checkAssembler(result: AssembleResult, report: Reporter, input?: IncludeSource): void {
  const fixes = new SymbolFixes(result, input);
  for (const d of result.diagnostics) {
    report.add({
      code: 'asm', at: d.span, severity: d.severity,
      message: d.message,
      related: d.related.map((r) => ({ span: r.span, message: r.message })),
      fixes: fixes.fixesFor(d),
    });
  }
}
