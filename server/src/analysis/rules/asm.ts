// The assembler's own diagnostics (syntax, operands, symbols, directives, macros,
// includes), passed through with code `asm`: the assembler already places them in the
// analysed file, with the macro body or include line they came from as related information.
// An undefined name gets a fix where one is clear: the include that defines it, or a stub
// for a missing jump or call target (fixes/symbols.ts); in an include file, a name the
// file that includes it defines is not undefined.

import type { AssembleResult } from '../../../../asm/src/index.js';
import { SymbolFixes, type IncludeSource } from '../fixes/symbols.js';
import type { Reporter } from '../report.js';

export function checkAssembler(result: AssembleResult, report: Reporter, input?: IncludeSource): void {
  const fixes = new SymbolFixes(result, input);
  const elsewhere = input?.definedByIncluder;
  for (const d of result.diagnostics) {
    if (elsewhere && d.severity === 'error') {
      const name = fixes.nameOf(d);
      if (name !== null && elsewhere(name)) continue; // defined by the file that includes this one
    }
    report.add({
      code: 'asm', at: d.span, severity: d.severity,
      message: d.message,
      related: d.related.map((r) => ({ span: r.span, message: r.message })),
      fixes: fixes.fixesFor(d),
    });
  }
}
