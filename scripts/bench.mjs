// `npm run bench`: bundles each tests/bench/*.bench.ts with esbuild and runs its run().
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'tests', 'bench');
const only = process.argv[2];
for (const name of readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !name.includes(only)) continue;
  const outfile = join(tmpdir(), `xenolab-${name.replace(/\.ts$/, '')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(benchDir, name)], outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning',
    // CommonJS dependencies (the DAP test client) require Node's modules: give them a require.
    banner: { js: "import { createRequire as __xenolabRequire } from 'node:module'; const require = __xenolabRequire(import.meta.url);" },
  });
  const mod = await import(pathToFileURL(outfile).href);
  await mod.run();
}
