// `npm run bench`: bundles each tests/bench/*.bench.ts with esbuild and runs its run(), each in a process of its own.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'tests', 'bench');
const only = process.argv[2];
for (const name of readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !name.includes(only)) continue;
  // Beside node_modules, so that the packages left out of the bundle resolve.
  const outfile = join(root, 'node_modules', '.cache', `xenolab-${name.replace(/\.ts$/, '')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(benchDir, name)], outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning',
    // Run from node_modules, not bundled: playwright-core finds its files by __dirname, vitest its state.
    external: ['playwright-core', 'vitest'],
    // CommonJS dependencies (the DAP test client) require Node's modules: give them a require.
    banner: { js: "import { createRequire as __xenolabRequire } from 'node:module'; const require = __xenolabRequire(import.meta.url);" },
  });
  // Each bench in a process of its own: one's heap (1024 domains, a 10k-line document)
  // must not slow the collector in the next.
  const entry = `import(${JSON.stringify(pathToFileURL(outfile).href)}).then((m) => m.run())`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', entry], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
