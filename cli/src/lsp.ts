// The language server over stdio (`xenolab lsp --stdio`, or dist/xenolab-lsp.mjs on its own
// as the VS Code extension starts it), for any LSP client, and `xenolab lint FILES...`: the
// same diagnostics as `file:line:col: severity code: message`.

import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { analyze, type AnalysisOptions } from '../../server/src/analysis/index.js';
import { startServer } from '../../server/src/server.js';
import { listFiles, nodeFiles, nodeProvider } from './nodeProvider.js';

export function serveLsp(): Promise<number> {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  startServer(connection, { readText: nodeFiles.readText, listFiles });
  return new Promise((resolve) => connection.onExit(() => resolve(0)));
}

/** Lints files; exit status 1 if any has an error, 2 if one cannot be read. */
export function lint(paths: readonly string[], options: AnalysisOptions = {}, out: (s: string) => void = (s) => process.stdout.write(s)): number {
  let status = 0;
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
    const { findings } = analyze({ path, text, provider: nodeProvider() }, options);
    for (const f of findings) {
      out(`${f.file}:${f.range.start.line + 1}:${f.range.start.column + 1}: ${f.severity} ${f.code}: ${f.message}\n`);
      for (const r of f.related) out(`${r.file}:${r.range.start.line + 1}:${r.range.start.column + 1}: note: ${r.message}\n`);
      if (f.severity === 'error' && status === 0) status = 1;
    }
  }
  return status;
}

if (process.argv[1] !== undefined && /xenolab-lsp\.mjs$/.test(process.argv[1])) process.exitCode = await serveLsp();
