// Builds the browser playground into dist/playground/: the page, its script and styles
// (monaco-editor included), monaco's editor worker, the language server and the debug
// adapter as web workers (the same esbuild configurations as dist/, other output files),
// and the seeds as one JSON file. Everything the page loads comes from that folder.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LSP_WORKER, WORKER } from '../scripts/bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(root, 'dist', 'playground');

/** Seed files the playground opens as text; any other file (disk images) travels as base64. */
const TEXT_EXTENSIONS = new Set(['.xasm', '.inc', '.cfg']);

/**
 * The seeds as `{ name: { files, binary } }`, paths relative to the seed's folder: a
 * top-level guest is a seed of its own (`hello`), a folder is one seed (`pingpong`).
 */
export function seeds() {
  const dir = join(root, 'seeds');
  const out = {};
  const add = (name, base, path) => {
    const seed = (out[name] ??= { files: {}, binary: {} });
    const rel = relative(base, path);
    if (TEXT_EXTENSIONS.has(extname(path))) seed.files[rel] = readFileSync(path, 'utf8');
    else if (extname(path) !== '.console') seed.binary[rel] = readFileSync(path).toString('base64');
  };
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) for (const f of readdirSync(path).sort()) add(entry, path, join(path, f));
    else if (extname(entry) === '.xasm') add(entry.slice(0, -'.xasm'.length), dir, path);
  }
  return out;
}

const BROWSER = { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'warning', minify: true, sourcemap: true };

export async function buildPlayground() {
  mkdirSync(OUT, { recursive: true });
  await Promise.all([
    build({
      ...BROWSER,
      entryPoints: [join(root, 'playground/src/main.ts')],
      outfile: join(OUT, 'playground.js'),
      // monaco's stylesheets are bundled into playground.css; its icon font is a file beside it.
      loader: { '.ttf': 'file' },
      assetNames: '[name]',
    }),
    build({ ...BROWSER, entryPoints: [join(root, 'node_modules/monaco-editor/esm/vs/editor/editor.worker.js')], outfile: join(OUT, 'editor.worker.js') }),
    build({ ...WORKER, outfile: join(OUT, 'xenolab-dap-worker.js') }),
    build({ ...LSP_WORKER, outfile: join(OUT, 'xenolab-lsp-worker.js') }),
    build({ ...BROWSER, sourcemap: false, entryPoints: [join(root, 'client/webview/panels.css')], outfile: join(OUT, 'panels.css') }),
  ]);
  copyFileSync(join(root, 'playground/index.html'), join(OUT, 'index.html'));
  copyFileSync(join(root, 'playground/style.css'), join(OUT, 'style.css'));
  writeFileSync(join(OUT, 'seeds.json'), JSON.stringify(seeds()));
  return OUT;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`built ${relative(process.cwd(), await buildPlayground())}`);
