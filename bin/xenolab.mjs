#!/usr/bin/env node
// The `xenolab` command. Rebuilds the bundle when any source is newer than it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundlePath = join(root, 'dist/xenolab.mjs');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const dir of ['isa/src', 'asm/src', 'hypervisor/src', 'protocol/src', 'server/src', 'debugger/src', 'cli/src']) if (existsSync(join(root, dir))) walk(join(root, dir));
  return newest;
}

if (!existsSync(bundlePath) || statSync(bundlePath).mtimeMs < newestSource()) {
  const { bundle } = await import(pathToFileURL(join(root, 'scripts/bundle.mjs')).href);
  await bundle();
}
const { main } = await import(pathToFileURL(bundlePath).href);
process.exitCode = await main(process.argv.slice(2));
