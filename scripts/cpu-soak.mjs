// `npm run soak:cpu [cases] [seed]`: the CPU differential test at scale (default 100,000
// cases); prints each difference and exits non-zero when there is one.
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(tmpdir(), `xenolab-cpu-soak-${process.pid}.mjs`);
await build({ entryPoints: [join(root, 'hypervisor', 'test', 'diff', 'soak.ts')], outfile, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
const { soak } = await import(pathToFileURL(outfile).href);
const failures = soak(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 1));
process.exit(failures ? 1 : 0);
