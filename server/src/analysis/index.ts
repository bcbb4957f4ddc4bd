// The language server's analysis core: one assembly of a document, its control-flow graph
// and register dataflow, and the paravirtualization rules over them, as findings with
// fixes. No LSP types and no host APIs: the CLI linter and the browser worker use it too.

import type { AssembleResult } from '../../../asm/src/index.js';
import { buildCfg } from './cfg.js';
import { analyzeDataflow } from './constprop.js';
import type { Context } from './context.js';
import { hypercallSites } from './hypercalls.js';
import { assembleFor, buildProgram } from './program.js';
import { Reporter } from './report.js';
import { checkAbi } from './rules/abi.js';
import { checkAssembler } from './rules/asm.js';
import { checkBatching } from './rules/batching.js';
import { checkInstructions } from './rules/instructions.js';
import { checkStores } from './rules/stores.js';
import type { AnalysisInput, AnalysisOptions, AnalysisResult, Finding } from './types.js';

export type * from './types.js';
export { RULES, RULE_BY_CODE, type RuleInfo } from './rules.js';
export { assembleFor, buildProgram, type Instr, type LabelRegion, type Program } from './program.js';
export { buildCfg, type Block, type Cfg, type Edge, type Func, type Loop } from './cfg.js';
export { analyzeDataflow, type Dataflow } from './constprop.js';
export { hypercallSites, type HypercallSite } from './hypercalls.js';
export { tripCount, type TripCount } from './tripcount.js';
export type { Context } from './context.js';
export type { State, Val } from './values.js';

/**
 * Analyses one document. `assembled` may be the result of assembling exactly this input
 * (saves a second assembly when the caller has one). Never throws; bounded on any input.
 */
export function analyze(input: AnalysisInput, options: AnalysisOptions = {}, assembled?: AssembleResult): AnalysisResult {
  let result: AssembleResult;
  try {
    result = assembled ?? assembleFor(input.path, input.text, input.provider);
  } catch (e) {
    return { findings: [internal(input.path, e)] };
  }
  const report = new Reporter(result.files, options);
  try {
    checkAssembler(result, report, input);
    const ctx = analyzeProgram(result, report);
    checkInstructions(ctx);
    checkBatching(ctx);
    checkStores(ctx);
    checkAbi(ctx);
    return { findings: report.findings(), context: ctx };
  } catch (e) {
    try {
      return { findings: [...report.findings(), internal(input.path, e)] };
    } catch {
      return { findings: [internal(input.path, e)] };
    }
  }
}

/**
 * The program, its control-flow graph (loops, functions), register dataflow and hypercall
 * sites, for editor features beyond findings (code lens, hovers, inlay hints).
 */
export function analyzeProgram(result: AssembleResult, report: Reporter = new Reporter(result.files, {})): Context {
  const program = buildProgram(result);
  const cfg = buildCfg(program);
  const df = analyzeDataflow(cfg);
  const sites = hypercallSites(df);
  return { program, cfg, df, sites, siteAt: new Map(sites.map((s) => [s.instr, s])), report };
}

function internal(path: string, e: unknown): Finding {
  return {
    code: 'internal', severity: 'error', file: path, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } },
    message: `xenolab could not analyse this file: ${e instanceof Error ? e.message : String(e)}`, related: [], fixes: [],
  };
}
