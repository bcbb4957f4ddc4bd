// One e2e file's real extension: a workspace folder the file prepares, code-server with the
// packaged .vsix (built once by setup.ts), Chromium on its workbench, numbered screenshots
// of the steps; afterwards a last screenshot, VS Code's logs, and everything stopped and
// removed. Registers the file's beforeAll/afterAll.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { startCodeServer, type CodeServer } from '../../scripts/code-server.mjs';
import { OUTPUT, launchBrowser, openWorkbench, saveLogs, screenshot, type Workbench } from './vscode.js';

export interface ExtensionSession {
  readonly workspace: string;
  readonly workbench: Workbench;
  readonly page: Page;
  /** Saves the next numbered screenshot under test-output/e2e/NAME/. */
  shot(step: string): Promise<string>;
}

export function extensionSession(name: string, prepare: (workspace: string) => void, settings?: Record<string, unknown>): ExtensionSession {
  const shots = join(OUTPUT, name);
  let workspace = '';
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench | undefined;
  let step = 0;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    workspace = mkdtempSync(join(tmpdir(), `xenolab-e2e-${name}-`));
    prepare(workspace);
    server = await startCodeServer({ workspace, vsix: inject('xenolabVsix').path, ...(settings ? { settings } : {}) });
    browser = await launchBrowser();
    wb = await openWorkbench(browser, server.url);
  });

  afterAll(async () => {
    if (wb) await screenshot(wb.page, shots, 'zz-last').catch(() => {});
    await browser?.close();
    if (server) saveLogs(server, join(OUTPUT, `${name}-logs`));
    await server?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  return {
    get workspace() { return workspace; },
    get workbench() { return wb!; },
    get page() { return wb!.page; },
    shot: (s) => screenshot(wb!.page, shots, `${String(++step).padStart(2, '0')}-${s}`),
  };
}
