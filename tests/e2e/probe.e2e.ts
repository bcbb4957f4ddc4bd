// Proof that a real VS Code can be driven end to end here: a throwaway extension is
// packaged to a .vsix, installed into code-server, and used from Chromium the way a person
// would — open a .xasm file with Quick Open, run the extension's command from the command
// palette, see its notification and status bar item. The extension itself (issue 8) will
// be tested the same way.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startCodeServer, type CodeServer } from '../../scripts/code-server.mjs';
import {
  OUTPUT, activeWebview, saveLogs, lastQuickInputPresses, launchBrowser, notification, openWorkbench, packageVsix, quickOpen,
  runCommand, statusBarItem, type Workbench,
} from './vscode.js';

const PROBE_PACKAGE = {
  name: 'xenolab-e2e-probe',
  displayName: 'xenolab e2e probe',
  description: 'Throwaway extension for the e2e harness test',
  publisher: 'xenolab-test',
  version: '0.0.1',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: ['onLanguage:xasm'],
  contributes: {
    languages: [{ id: 'xasm', extensions: ['.xasm'], aliases: ['Xen Assembly', 'xasm'] }],
    commands: [
      { command: 'xenolabProbe.hello', title: 'Xenolab Probe: Hello' },
      { command: 'xenolabProbe.webview', title: 'Xenolab Probe: Show Webview' },
    ],
  },
};

const PROBE_MAIN = String.raw`
const vscode = require('vscode');
exports.activate = (context) => {
  const item = vscode.window.createStatusBarItem('xenolabProbe.status', vscode.StatusBarAlignment.Left, 1000);
  context.subscriptions.push(item, vscode.commands.registerCommand('xenolabProbe.hello', () => {
    const editor = vscode.window.activeTextEditor;
    const what = editor ? editor.document.languageId + ' ' + editor.document.lineCount + ' lines' : 'no editor';
    item.text = 'probe ran: ' + what;
    item.show();
    vscode.window.showInformationMessage('Probe says hello from ' + what);
  }));
  // A webview with a strict CSP and a nonce'd script, as the extension's panels will have.
  context.subscriptions.push(vscode.commands.registerCommand('xenolabProbe.webview', () => {
    const panel = vscode.window.createWebviewPanel('xenolabProbe', 'Probe Webview', vscode.ViewColumn.Beside, { enableScripts: true });
    const nonce = require('crypto').randomBytes(16).toString('base64');
    panel.webview.html = '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ' +
      'style-src ' + panel.webview.cspSource + '; script-src \'nonce-' + nonce + '\';"></head>' +
      '<body><p id="out">script did not run</p><script nonce="' + nonce + '">' +
      'document.getElementById("out").textContent = "webview script ran: " + 6 * 7;</script></body></html>';
  }));
};
`;

const times: Record<string, number> = {};
let work: string;
let server: CodeServer | undefined;
let browser: Browser | undefined;
let wb: Workbench | undefined;

beforeAll(async () => {
  times.installMs = inject('codeServerInstall').ms;
  work = mkdtempSync(join(tmpdir(), 'xenolab-e2e-'));
  const ext = join(work, 'extension');
  mkdirSync(ext);
  writeFileSync(join(ext, 'package.json'), JSON.stringify(PROBE_PACKAGE, null, 2));
  writeFileSync(join(ext, 'extension.js'), PROBE_MAIN);
  writeFileSync(join(ext, 'LICENSE'), 'MIT\n');
  let t = Date.now();
  const vsix = packageVsix(ext, join(work, 'probe.vsix'));
  times.vsceMs = Date.now() - t;

  const workspace = join(work, 'guest');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'hello.xasm'), 'bits 32\nsection .text\nglobal _start\n_start:\n    mov eax, 1\n    hlt\n');

  server = await startCodeServer({ workspace, vsix });
  times.codeServerStartMs = server.startMs;
  t = Date.now();
  browser = await launchBrowser();
  times.browserLaunchMs = Date.now() - t;
});

afterAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  if (wb) await wb.page.screenshot({ path: join(OUTPUT, 'probe-final.png') }).catch(() => {});
  await browser?.close();
  if (server) saveLogs(server, join(OUTPUT, 'probe-logs'));
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  mkdirSync(OUTPUT, { recursive: true });
  writeFileSync(join(OUTPUT, 'probe-timings.json'), JSON.stringify(times, null, 2) + '\n');
  console.log('e2e probe timings (ms):', JSON.stringify(times));
});

it('opens a .xasm file and runs an extension command in a real VS Code', async () => {
  const t0 = Date.now();
  wb = await openWorkbench(browser!, server!.url);
  times.workbenchMs = Date.now() - t0;
  const { page } = wb;

  let t = Date.now();
  await quickOpen(page, 'hello.xasm');
  times.quickOpenPresses = lastQuickInputPresses;
  // The language contribution: the status bar names the file's language by its alias.
  await expect.poll(() => page.locator('.part.statusbar [id="status.editor.mode"]').innerText(), { timeout: 30_000 })
    .toContain('Xen Assembly');
  times.quickOpenMs = Date.now() - t;

  t = Date.now();
  await runCommand(page, 'Xenolab Probe: Hello');
  await notification(page, 'Probe says hello from xasm 7 lines').waitFor({ timeout: 30_000 });
  await statusBarItem(page, 'xenolab-test.xenolab-e2e-probe.xenolabProbe.status')
    .or(page.locator('.part.statusbar .statusbar-item', { hasText: 'probe ran: xasm 7 lines' }))
    .first().waitFor({ timeout: 10_000 });
  times.commandMs = Date.now() - t;
  times.commandPresses = lastQuickInputPresses;

  // Webviews are served by code-server itself (not a CDN) and run their nonce'd scripts.
  t = Date.now();
  await runCommand(page, 'Xenolab Probe: Show Webview');
  await activeWebview(page).getByText('webview script ran: 42').waitFor({ timeout: 30_000 });
  times.webviewMs = Date.now() - t;

  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'probe.png') });
  times.testMs = Date.now() - t0;

  expect(wb.foreignRequests).toEqual([]);
});
