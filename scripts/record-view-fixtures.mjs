// Re-records the side panels' fixtures (client/test/fixtures/*.json) from the real debug
// adapter: bundles client/test/record-fixtures.ts with esbuild and runs it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(tmpdir(), `xenolab-record-fixtures-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'client/test/record-fixtures.ts')], outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning',
  // import.meta.dirname must stay the source's, not the temporary bundle's.
  define: { 'import.meta.dirname': JSON.stringify(join(root, 'client/test')) },
  banner: { js: "import { createRequire as __xenolabRequire } from 'node:module'; const require = __xenolabRequire(import.meta.url);" },
});
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}
