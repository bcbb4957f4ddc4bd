// Writes what the extension takes from the toolchain's tables (client/build/index.ts):
// the TextMate grammar, the snippets, and the generated keys of package.json (settings per
// lint rule, the debugger's launch schema, semantic token scopes). Other keys of
// package.json are left as they are. `--check` writes nothing and exits 1 if anything is
// out of date (client/test/generated.test.ts checks the same).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const out = await build({
  entryPoints: [join(root, 'client/build/index.ts')], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'warning',
});
const gen = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);

const stale = [];
const write = (path, text) => {
  const file = join(root, path);
  let old = null;
  try { old = readFileSync(file, 'utf8'); } catch { /* a new file */ }
  if (old === text) return;
  stale.push(path);
  if (check) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

for (const [path, text] of Object.entries(gen.generatedFiles())) write(path, text);
// package.json is read just before it is written: others edit their own keys of it.
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const [key, value] of Object.entries(gen.generatedManifest())) gen.setPath(manifest, key, value);
write('package.json', gen.json(manifest));

if (stale.length > 0) console.log(`${check ? 'out of date' : 'written'}: ${stale.join(', ')}`);
if (check && stale.length > 0) process.exitCode = 1;
