// The language server over stdio (`xenolab lsp --stdio`, or dist/xenolab-lsp.mjs on its own
// as the VS Code extension starts it), for any LSP client, and `xenolab lint FILES...`: the
// same diagnostics as `file:line:col: severity code: message`.

import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import type { AssembleResult } from '../../asm/src/index.js';
import { analyze, assembleFor, type AnalysisOptions } from '../../server/src/analysis/index.js';
import { buildIndex, type SymbolIndex } from '../../server/src/language/symbols.js';
import { startServer } from '../../server/src/server.js';
import { listFiles, nodeFiles, nodeProvider } from './nodeProvider.js';

export function serveLsp(): Promise<number> {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  startServer(connection, { readText: nodeFiles.readText, listFiles });
  return new Promise((resolve) => connection.onExit(() => resolve(0)));
}

/**
 * Lints files; exit status 1 if any has an error, 2 if one cannot be read. A file that
 * another of them includes is checked as part of it, as the language server checks it: a
 * name it uses that its includer defines is not undefined.
 */
export function lint(paths: readonly string[], options: AnalysisOptions = {}, out: (s: string) => void = (s) => process.stdout.write(s)): number {
  let status = 0;
  const provider = nodeProvider();
  const files: { path: string; text: string; assembled?: AssembleResult }[] = [];
  for (const p of paths) {
    const path = resolve(p);
    let text: string;
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
      text = readFileSync(path, 'utf8');
    } catch {
      out(`${p}: error: cannot read it\n`);
      status = 2;
      continue;
    }
    let assembled: AssembleResult | undefined;
    try {
      assembled = assembleFor(path, text, provider);
    } catch {
      // analyze() assembles again and reports what went wrong
    }
    files.push({ path, text, assembled });
  }
  const indexes = new Map<string, SymbolIndex>();
  const indexOf = (f: (typeof files)[number]) => indexes.get(f.path) ?? indexes.set(f.path, buildIndex(f.assembled!)).get(f.path)!;
  for (const { path, text, assembled } of files) {
    const includers = files.filter((f) => f.path !== path && f.assembled?.files.some((inc) => inc.path === path));
    const definedByIncluder = (name: string) => includers.some((f) => indexOf(f).definitions.has(name));
    const { findings } = analyze({ path, text, provider, definedByIncluder }, options, assembled);
    for (const f of findings) {
      out(`${f.file}:${f.range.start.line + 1}:${f.range.start.column + 1}: ${f.severity} ${f.code}: ${f.message}\n`);
      for (const r of f.related) out(`${r.file}:${r.range.start.line + 1}:${r.range.start.column + 1}: note: ${r.message}\n`);
      if (f.severity === 'error' && status === 0) status = 1;
    }
  }
  return status;
}

if (process.argv[1] !== undefined && /xenolab-lsp\.mjs$/.test(process.argv[1])) process.exitCode = await serveLsp();
