// vitest globalSetup of the e2e tests: installs Node 24 and code-server if missing (minutes
// the first time on a machine, well under a second after), and builds and packages the
// real extension (`npm run package`: tsc, the bundles, vsce) into a .vsix of this run's
// own, outside any test's timeout.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureCodeServer, type InstallResult } from '../../scripts/code-server.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    codeServerInstall: InstallResult;
    /** The extension packaged from this checkout, and how long building and packaging took. */
    xenolabVsix: { path: string; ms: number };
  }
}

/** `npm run package`, then a copy of its .vsix (a rebuild during the run cannot change it). */
function packageExtension(dir: string): { path: string; ms: number } {
  const t0 = Date.now();
  try {
    execFileSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  } catch (e) {
    const r = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run package failed: ${r.message}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  const path = join(dir, 'xenolab.vsix');
  copyFileSync(join(ROOT, 'dist', 'xenolab.vsix'), path);
  return { path, ms: Date.now() - t0 };
}

export default async function setup(project: TestProject): Promise<() => void> {
  project.provide('codeServerInstall', await ensureCodeServer());
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-e2e-vsix-'));
  project.provide('xenolabVsix', packageExtension(dir));
  return () => rmSync(dir, { recursive: true, force: true });
}
