// Bundles the entry points with esbuild. Used by `npm run build` and, on demand, by
// bin/xenolab.mjs so that `npx xenolab` works in a fresh checkout after `npm ci`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ENTRIES = [
  { in: join(root, 'cli/src/main.ts'), out: join(root, 'dist/xenolab.mjs') },
  { in: join(root, 'cli/src/dap.ts'), out: join(root, 'dist/xenolab-dap.mjs') },
  // The language server alone, as the VS Code extension starts it (`node dist/xenolab-lsp.mjs --stdio`).
  { in: join(root, 'cli/src/lsp.ts'), out: join(root, 'dist/xenolab-lsp.mjs') },
];

/** The debug adapter for a browser's web worker (the playground): no Node modules. */
export const WORKER = {
  entryPoints: [join(root, 'debugger/src/worker.ts')],
  outfile: join(root, 'dist/xenolab-dap-worker.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  alias: { events: join(root, 'debugger/src/web/events.ts'), url: join(root, 'debugger/src/web/url.ts') },
};

/** The language server for a browser's web worker. */
export const LSP_WORKER = { ...WORKER, entryPoints: [join(root, 'server/src/browser.ts')], outfile: join(root, 'dist/xenolab-lsp-worker.js'), alias: {} };

/**
 * The extension's webview panels (client/webview): one script and one stylesheet, loaded
 * by every panel through asWebviewUri (a strict CSP: nothing inline, nothing remote).
 */
const WEBVIEW = {
  entryPoints: [{ in: join(root, 'client/webview/main.ts'), out: 'panels' }, { in: join(root, 'client/webview/panels.css'), out: 'panels' }],
  outdir: join(root, 'dist/webview'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
};

/** What every bundle run by Node shares. */
const NODE = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

/** The VS Code extension: CommonJS (the root package is "type": "module"), `vscode` provided by the host. */
const EXTENSION = {
  ...NODE,
  entryPoints: [join(root, 'client/src/extension.ts')],
  outfile: join(root, 'dist/extension.cjs'),
  format: 'cjs',
  external: ['vscode'],
  // Nearly all of it is vscode-languageclient: minified, it loads faster and halves the .vsix.
  minify: true,
};

export async function bundle() {
  await Promise.all([build(WORKER), build(LSP_WORKER), build(WEBVIEW), build(EXTENSION)]);
  await Promise.all(ENTRIES.map((e) => build({
    ...NODE,
    entryPoints: [e.in],
    outfile: e.out,
    format: 'esm',
    // CommonJS dependencies (@vscode/debugadapter) require Node's modules: give them a require.
    banner: { js: "import { createRequire as __xenolabRequire } from 'node:module'; const require = __xenolabRequire(import.meta.url);" },
  })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
