// vitest globalSetup of the e2e tests: installs Node 24 and code-server if missing (minutes
// the first time on a machine, well under a second after), outside any test's timeout.

import type { TestProject } from 'vitest/node';
import { ensureCodeServer, type InstallResult } from '../../scripts/code-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    codeServerInstall: InstallResult;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('codeServerInstall', await ensureCodeServer());
}
