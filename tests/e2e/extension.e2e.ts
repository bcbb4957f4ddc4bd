// The real extension in a real VS Code (code-server + Chromium), used as a person would on a
// copy of seeds/traps.xasm (it runs `cli`, a privileged instruction, on purpose): the
// privileged-instruction diagnostic in the Problems panel, its quick fix, go to definition
// into the built-in xen.inc, an include file opened as guest assembly, F5 with no
// launch.json, a breakpoint set in the gutter, a step over with F10 (the current line and a
// register change), the Xen view container's Domains tree, and the end of the session.
// Screenshots of every step go to test-output/e2e/extension/.

import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { xenIncludeSource } from '../../asm/src/index.js';
import { extensionSession } from './session.js';
import { ROOT, clickGutter, currentLine, goToLine, openViewContainer, pane, paneRows, quickOpen, statusBarItem } from './vscode.js';


/** What the language server says about line 57 of traps.xasm (server/src/analysis/rules/instructions.ts). */
const PRIVILEGED_MESSAGE = '`cli` is privileged: a paravirtualized kernel runs in ring 1, where it traps to Xen: the kernel gets #GP(0); ' +
  'with a virtual IOPL of 1 (PHYSDEVOP_set_iopl) Xen silently ignores it instead, and events stay as vcpu_info says. ' +
  "Instead: Mask event delivery: set vcpu_info.evtchn_upcall_mask (byte 1 of this vCPU's vcpu_info in shared_info) to 1.";
/** Its quick fix (server/src/analysis/fixes/privileged.ts), and the line it writes. */
const QUICK_FIX = "Replace cli with masking events in vCPU 0's vcpu_info (shared)";
const FIXED_LINE = 'mov byte [shared + shared_info.vcpu_info + vcpu_info.evtchn_upcall_mask], 1 ; cli: mask event delivery (vCPU 0)';
const CLI_LINE = 57;
/** `mov eax, [victim]` with the page still mapped: eax becomes the word stored at victim. */
const BREAK_LINE = 61;
/** `    HYPERCALL_PAGE_CALL console_io`: a macro xen.inc defines. */
const MACRO_CALL_LINE = 29;

const session = extensionSession('extension', (workspace) => {
  copyFileSync(join(ROOT, 'seeds', 'traps.xasm'), join(workspace, 'traps.xasm'));
  // a guest of two files: an include file is only known as guest assembly by its includer
  writeFileSync(join(workspace, 'guest.xasm'), ['bits 32', '%include "xen.inc"', '%include "util.inc"', 'org 0xc0000000', 'section .text', '_start:', '    call mask_events', '    jmp _start', ''].join('\n'));
  writeFileSync(join(workspace, 'util.inc'), ['; helpers guest.xasm includes', 'mask_events:', '    cli', '    ret', ''].join('\n'));
  expect(readFileSync(join(workspace, 'traps.xasm'), 'utf8').split('\n')[CLI_LINE - 1].trim()).toBe('cli');
}); // Workspace Trust off: the folder is trusted, so F5 runs the guest without asking.
let page: Page;
beforeAll(() => {
  page = session.page;
});
const shot = session.shot;

/** A register's value in the Variables view (its row's accessible name is `eax, value 0x...`). */
async function register(name: string): Promise<string> {
  const label = await paneRows(page, 'Variables').filter({ has: page.locator('.name', { hasText: new RegExp(`^${name} =$`) }) }).first()
    .getAttribute('aria-label');
  const m = new RegExp(`^${name}, value (\\S+)$`).exec(label ?? '');
  if (!m) throw new Error(`no ${name} row in Variables (${label})`);
  return m[1];
}

it('shows the privileged-instruction diagnostic in the Problems panel', async () => {
  await quickOpen(page, 'traps.xasm');
  await expect.poll(() => statusBarItem(page, 'status.editor.mode').innerText(), { timeout: 30_000 }).toContain('xenolab guest assembly');
  await page.keyboard.press('Control+Shift+M');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: PRIVILEGED_MESSAGE });
  await problem.waitFor({ timeout: 60_000 });
  const text = await problem.innerText();
  expect(text).toContain('privileged-instruction');
  expect(text).toContain(`[Ln ${CLI_LINE}, Col 5]`);
  // It is the only problem in the workspace.
  expect(await page.locator('.markers-panel .monaco-list-row', { hasText: /Ln \d+, Col \d+/ }).count()).toBe(1);
  await shot('problems');
});

it('applies the quick fix (Ctrl+.) and the diagnostic goes away', async () => {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await goToLine(page, CLI_LINE);
  const fix = page.locator('.action-widget .monaco-list-row.action', { hasText: QUICK_FIX });
  // The code actions of a line are asked for when the menu opens: try again if it opened before they came.
  for (let i = 1; ; i++) {
    await page.keyboard.press('Control+.');
    try {
      await fix.waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      console.log(`quick fix menu, attempt ${i}: no "${QUICK_FIX}" in it (${await page.locator('.action-widget').first().innerText({ timeout: 1000 }).catch(() => 'not open')})`);
      if (i === 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await shot('quick-fix-menu');
  await fix.click();
  await page.locator('.markers-panel', { hasText: 'No problems have been detected in the workspace.' }).waitFor({ timeout: 30_000 });
  // The editor renders spaces as no-break spaces.
  await expect.poll(async () => (await page.locator('.editor-group-container.active .view-line', { hasText: 'cli: mask event delivery' }).innerText()).replace(/\u00a0/g, ' ').trim())
    .toBe(FIXED_LINE);
  await page.keyboard.press('Control+S');
  await expect.poll(() => readFileSync(join(session.workspace, 'traps.xasm'), 'utf8').split('\n')[CLI_LINE - 1].trim(), { timeout: 10_000 }).toBe(FIXED_LINE);
  await shot('quick-fix-applied');
});

it('goes to a xen.inc macro with F12: the built-in file opens read-only at the macro', async () => {
  await goToLine(page, MACRO_CALL_LINE);
  await page.keyboard.press('Home'); // the first non-blank: the macro's name
  await page.keyboard.press('F12');
  // the active tab's label (the editor puts a line break before a name's extension)
  const tab = async () => (await page.locator('.editor-group-container.active .tab.active').innerText()).replace(/\s+/g, '');
  await expect.poll(tab, { timeout: 30_000 }).toBe('xen.inc');
  // The server's text of xen.inc, at the line that defines the macro.
  const macroLine = xenIncludeSource().split('\n').indexOf('%macro HYPERCALL_PAGE_CALL 1') + 1;
  expect(macroLine).toBeGreaterThan(0);
  await statusBarItem(page, 'status.editor.selection').filter({ hasText: new RegExp(`^Ln ${macroLine}, `) }).waitFor({ timeout: 10_000 });
  await page.locator('.editor-group-container.active .view-line', { hasText: '%macro HYPERCALL_PAGE_CALL 1' }).waitFor({ timeout: 10_000 });
  // shown as guest assembly (coloured as such), though `.inc` is no language's of its own
  await expect.poll(() => statusBarItem(page, 'status.editor.mode').innerText(), { timeout: 10_000 }).toContain('xenolab guest assembly');
  await shot('builtin-definition');
  // Typing into it is refused: the built-in file is the server's, not the user's.
  await page.keyboard.type('x');
  await page.locator('.monaco-editor-overlaymessage', { hasText: /read-?only/i }).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Control+W');
  await expect.poll(tab, { timeout: 10_000 }).toBe('traps.xasm');
  // Nothing was saved anywhere: no xen.inc appeared in the workspace.
  expect(existsSync(join(session.workspace, 'xen.inc'))).toBe(false);
});

it('opens an include file a guest source includes as guest assembly, with its diagnostics', async () => {
  await quickOpen(page, 'util.inc');
  await expect.poll(() => statusBarItem(page, 'status.editor.mode').innerText(), { timeout: 30_000 }).toContain('xenolab guest assembly');
  // checked as part of guest.xasm, which includes it: its labels are defined, its cli is not allowed
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: /`cli` is privileged/ });
  await problem.waitFor({ timeout: 30_000 });
  expect(await problem.innerText()).toContain('[Ln 3, Col 5]');
  await shot('include-file');
  await page.keyboard.press('Control+W');
  await expect.poll(() => statusBarItem(page, 'status.editor.mode').innerText(), { timeout: 10_000 }).toContain('xenolab guest assembly');
  await expect.poll(async () => (await page.locator('.editor-group-container.active .tab.active').innerText()).replace(/\s+/g, '')).toBe('traps.xasm');
  await goToLine(page, CLI_LINE); // traps.xasm's view as the quick fix left it, for the breakpoint below
});

it('starts debugging with F5 (no launch.json) and stops at a breakpoint set in the gutter', async () => {
  await clickGutter(page, BREAK_LINE);
  await shot('breakpoint');
  await page.keyboard.press('F5');
  await paneRows(page, 'Call Stack', `${BREAK_LINE}:5`).waitFor({ timeout: 90_000 });
  await pane(page, 'Call Stack').getByText(/Paused on breakpoint/i).waitFor({ timeout: 10_000 });
  expect(await paneRows(page, 'Call Stack').first().innerText()).toMatch(/_start\+74/);
  await expect.poll(() => currentLine(page), { timeout: 10_000 }).toBe(BREAK_LINE);
  // The configuration provider ran the file in the editor; nothing was written to the workspace.
  expect(existsSync(join(session.workspace, '.vscode', 'launch.json'))).toBe(false);
  // The guest ran up to here: the #GP handler no longer prints (the cli is gone), the message after it does.
  await page.locator('.repl', { hasText: 'skipped it and went on' }).waitFor({ timeout: 10_000 });
  expect(await page.locator('.repl').innerText()).not.toContain('caught #GP');
  await paneRows(page, 'Variables', 'Registers').first().click();
  await expect.poll(() => register('eax'), { timeout: 10_000 }).toBe('0x00000000');
  await shot('stopped-at-breakpoint');
});

it('steps over with F10: the current line moves and eax changes in the Variables view', async () => {
  const before = { esi: await register('esi'), ecx: await register('ecx') };
  await page.keyboard.press('F10');
  await paneRows(page, 'Call Stack', `${BREAK_LINE + 1}:5`).waitFor({ timeout: 30_000 });
  expect(await paneRows(page, 'Call Stack').first().innerText()).toMatch(/_start\+79/);
  await expect.poll(() => currentLine(page), { timeout: 10_000 }).toBe(BREAK_LINE + 1);
  await expect.poll(() => register('eax'), { timeout: 10_000 }).toBe('0x600dcafe');
  expect({ esi: await register('esi'), ecx: await register('ecx') }).toEqual(before);
  await shot('stepped');
});

it('shows the domain and its vCPU in the Xen view container, and the domain in the status bar', async () => {
  await openViewContainer(page, 'Xen');
  const domain = paneRows(page, 'Domains', 'dom1 (traps)');
  await domain.waitFor({ timeout: 30_000 });
  expect(await domain.innerText()).toMatch(/running · 4,096 pages · 1 vCPU/);
  // vCPU 0 is where the debugger stopped: _start+79 of a kernel at 0xc0000000.
  const vcpu = paneRows(page, 'Domains', 'vCPU 0');
  await expect.poll(() => vcpu.innerText(), { timeout: 10_000 }).toMatch(/eip 0xc000004f/);
  await paneRows(page, 'Event Channels', 'dom1 (traps)').waitFor({ timeout: 10_000 });
  expect(await paneRows(page, 'Event Channels', /^port 2/).innerText()).toContain('(console)');
  await page.locator('.part.statusbar .statusbar-item', { hasText: 'dom1 traps' }).waitFor({ timeout: 10_000 });
  await shot('xen-views');
});

it('ends the session with Shift+F5 and the views say so', async () => {
  await page.keyboard.press('Shift+F5');
  await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
  await pane(page, 'Domains').getByText('Start a xenolab debug session').waitFor({ timeout: 30_000 });
  await paneRows(page, 'Domains', 'dom1 (traps)').waitFor({ state: 'detached', timeout: 30_000 });
  await paneRows(page, 'Event Channels', 'dom1 (traps)').waitFor({ state: 'detached', timeout: 30_000 });
  await shot('ended');
  expect(session.workbench.foreignRequests).toEqual([]);
});
