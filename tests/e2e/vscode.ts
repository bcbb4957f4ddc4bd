// Driving a real VS Code (code-server, see scripts/code-server.mjs) from tests: packaging
// an extension to a .vsix, Debian's Chromium under playwright-core, and the workbench
// gestures a person makes (Quick Open, the command palette, notifications).

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { vi } from 'vitest';
import { nodeBinary, type CodeServer } from '../../scripts/code-server.mjs';

export const ROOT = join(import.meta.dirname, '..', '..');
/** Screenshots and logs of the e2e tests (gitignored). */
export const OUTPUT = join(ROOT, 'test-output', 'e2e');

/**
 * Packages the extension in `dir` with @vscode/vsce (run on Node 24, which vsce 4 asks
 * for). No dependencies are bundled and nothing is asked on stdin.
 */
export function packageVsix(dir: string, out: string): string {
  const vsce = join(dirname(createRequire(import.meta.url).resolve('@vscode/vsce/package.json')), 'vsce');
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(nodeBinary(), [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  return out;
}

/**
 * Chromium flags: no background or component traffic (this machine has no network), and
 * no host name resolves, so nothing but code-server on 127.0.0.1 can be reached. Debian's
 * launcher sets Google API keys, with which Chromium still looks up Google's hosts
 * (autofill, accounts) despite --disable-background-networking.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync', '--disable-domain-reliability',
  '--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Debian's Chromium, headless; playwright gives it a fresh --user-data-dir. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.XENOLAB_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

export interface Workbench {
  page: Page;
  /** Requests the page made to anywhere but code-server (should stay empty). */
  foreignRequests: string[];
  /** Console errors, for diagnosing a failure. */
  consoleErrors: string[];
}

/** Opens the workbench at url and waits until it is laid out with its workspace. */
export async function openWorkbench(browser: Browser, url: string): Promise<Workbench> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => {
    const u = r.url();
    // A webview's own files (asWebviewUri) are https://*.vscode-resource.vscode-cdn.net URLs that
    // the webview's service worker answers from code-server; no such name resolves here anyway.
    if (/^https:\/\/[^/]+\.vscode-resource\.vscode-cdn\.net\//.test(u)) return;
    if (!u.startsWith(origin) && !/^(data|blob|about|vscode-webview|vscode-resource):/.test(u)) foreignRequests.push(u);
  });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
  // The explorer lists the workspace once the remote file system is connected.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  return { page, foreignRequests, consoleErrors };
}

/** Key presses it took to open the quick input (a first one can come before keybindings are ready). */
export let lastQuickInputPresses = 0;

async function quickInput(page: Page, key: string, text: string, pick: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const box = widget.locator('.quick-input-box input');
  for (let attempt = 1; ; attempt++) {
    // Keybindings work once the workbench has focus; retry the key until the widget shows.
    for (let i = 1; ; i++) {
      await page.keyboard.press(key);
      try {
        await widget.waitFor({ state: 'visible', timeout: 3000 });
        lastQuickInputPresses = i;
        break;
      } catch (e) {
        if (i === 5) throw e;
      }
    }
    // Into the box itself, not as key presses: those go where the focus is, and a webview
    // that had it can keep it (the list then shows unfiltered, without the row looked for).
    try {
      const mode = (await box.inputValue({ timeout: 5000 })).startsWith('>') ? '>' : ''; // F1 opens it in command mode
      await box.fill(mode + text, { timeout: 5000 });
      break;
    } catch (e) {
      // A webview taking the focus back can close the widget as it opens (a CI run saw
      // it): open it again, unless it is still there and the failure is something else.
      if (attempt === 3 || (await widget.isVisible())) throw e;
    }
  }
  const row = widget.locator('.monaco-list-row', { hasText: pick }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Quick Open (Ctrl+P): opens a workspace file by name and waits for its editor tab. */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await quickInput(page, 'Control+P', fileName, fileName);
  await page.locator('.tabs-container .tab', { hasText: fileName }).waitFor({ timeout: 30_000 });
}

/** The command palette (F1): runs a command by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await quickInput(page, 'F1', title, title);
}

/** A notification toast containing text. */
export function notification(page: Page, text: string | RegExp) {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text });
}

/** The document inside the webview whose tab is active (webviews are an iframe in an iframe). */
export function activeWebview(page: Page) {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** A status bar item by its id (e.g. `status.editor.mode`, or `publisher.ext.id` for an extension's). */
export function statusBarItem(page: Page, id: string) {
  return page.locator(`.part.statusbar [id="${id}"]`);
}

/**
 * Copies code-server's output and VS Code's logs (extension host, remote agent, ...) to
 * `dir`, replacing what an earlier run left there: what to read when a test fails.
 */
export function saveLogs(server: CodeServer, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'code-server.log'), server.logs());
  const logs = join(server.userDataDir, 'logs');
  if (existsSync(logs)) cpSync(logs, join(dir, 'vscode'), { recursive: true });
}

// ---------------------------------------------------------------------------------------
// Gestures of the extension's tests (tests/e2e/extension.e2e.ts, panels.e2e.ts)

/** Go to Line (Ctrl+G) in the focused editor; waits until the status bar shows the line. */
export async function goToLine(page: Page, line: number): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  for (let i = 1; ; i++) {
    await page.keyboard.press('Control+G');
    try {
      await widget.waitFor({ state: 'visible', timeout: 3000 });
      break;
    } catch (e) {
      if (i === 5) throw e;
    }
  }
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  await statusBarItem(page, 'status.editor.selection').filter({ hasText: new RegExp(`^Ln ${line}, `) }).waitFor({ timeout: 10_000 });
}

/** The lines of the active editor that show a breakpoint dot, each read off the line number level with it. */
async function breakpointLines(page: Page): Promise<number[]> {
  return page.locator('.editor-group-container.active .monaco-editor').first().evaluate((e) => {
    const numbers = [...e.querySelectorAll('.margin .line-numbers')].map((n) => {
      const b = n.getBoundingClientRect();
      return { n: Number(n.textContent), y: b.top + b.height / 2 };
    });
    return [...e.querySelectorAll('.codicon-debug-breakpoint')].map((d) => {
      const r = d.getBoundingClientRect();
      return numbers.find((l) => Math.abs(l.y - (r.top + r.height / 2)) < 4)?.n ?? -1;
    });
  });
}

/**
 * Sets a breakpoint the way a person does: a click in the editor's gutter (glyph margin)
 * beside `line`, which must be on screen. Waits for the breakpoint's red dot on that line. A
 * code lens that appears between finding the line and the click moves the lines below it:
 * a dot that lands on another line is clicked away and the click made again.
 */
export async function clickGutter(page: Page, line: number): Promise<void> {
  const editor = page.locator('.editor-group-container.active .monaco-editor').first();
  for (let attempt = 1; ; attempt++) {
    const before = await breakpointLines(page);
    const number = await editor.locator('.margin .line-numbers', { hasText: new RegExp(`^${line}$`) }).boundingBox();
    const glyphs = await editor.locator('.margin .glyph-margin').first().boundingBox();
    if (!number || !glyphs) throw new Error(`line ${line} is not on screen`);
    await page.mouse.click(glyphs.x + glyphs.width / 2, number.y + number.height / 2);
    let now: number[] = before;
    await vi.waitFor(async () => {
      now = await breakpointLines(page);
      if (now.length === before.length) throw new Error(`no new breakpoint dot (dots on lines ${now.join(', ')})`);
    }, { timeout: 10_000, interval: 100 });
    if (now.includes(line)) return;
    if (attempt === 3) throw new Error(`the breakpoint landed on line ${now.filter((l) => !before.includes(l)).join(', ')}, not ${line}`);
    // Take the stray one away (a click on its dot), then try again.
    const stray = now.find((l) => !before.includes(l));
    const dot = await editor.locator('.margin .line-numbers', { hasText: new RegExp(`^${stray}$`) }).boundingBox();
    if (dot) await page.mouse.click(glyphs.x + glyphs.width / 2, dot.y + dot.height / 2);
    await vi.waitFor(async () => {
      if ((await breakpointLines(page)).length !== before.length) throw new Error('the stray breakpoint is still there');
    }, { timeout: 10_000, interval: 100 });
  }
}

/**
 * The line of the editor's current-instruction highlight (the top stack frame), read off the
 * line number level with it, both measured at once (code lenses and scrolling move lines).
 * Poll it: it throws while there is no highlight.
 */
export async function currentLine(page: Page): Promise<number> {
  const editor = page.locator('.editor-group-container.active .monaco-editor').first();
  const line = await editor.evaluate((e) => {
    const mark = e.querySelector('.view-overlays .debug-top-stack-frame-line');
    if (!mark) return null;
    const r = mark.getBoundingClientRect();
    const y = r.top + r.height / 2;
    for (const n of e.querySelectorAll('.margin .line-numbers')) {
      const b = n.getBoundingClientRect();
      if (Math.abs(b.top + b.height / 2 - y) < 4) return Number(n.textContent);
    }
    return null;
  });
  if (line === null) throw new Error('no current-line highlight beside a line number');
  return line;
}

/** A sidebar view (pane) by its title, e.g. 'Domains', 'Variables', 'Call Stack'. */
export function pane(page: Page, title: string) {
  return page.locator('.part.sidebar .pane', { has: page.locator(`.pane-header[aria-label="${title} Section"]`) });
}

/** The rows of a tree or list view in a sidebar pane. */
export function paneRows(page: Page, title: string, hasText?: string | RegExp) {
  return pane(page, title).locator('.monaco-list-row', hasText === undefined ? {} : { hasText });
}

/** Opens a view container from the activity bar by its title ('Xen', 'Run and Debug', ...). */
export async function openViewContainer(page: Page, title: string): Promise<void> {
  const item = page.locator(`.part.activitybar .action-label[aria-label^="${title}"]`);
  await item.click();
  await page.locator('.part.sidebar .composite.title', { hasText: new RegExp(`^${title}`, 'i') }).waitFor({ timeout: 10_000 });
}

/**
 * The frame of a webview panel whose document shows `heading` in its h1 (the content frame
 * inside the webview's iframe: VS Code nests the panel's document one level down).
 */
export async function webviewFrame(page: Page, heading: string | RegExp, timeout = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      try {
        if (await f.locator('h1', { hasText: heading }).count()) return f;
      } catch { /* detached while looking */ }
    }
    if (Date.now() > deadline) throw new Error(`no webview shows a heading ${heading}`);
    await page.waitForTimeout(200);
  }
}

/** The webview element (the outer iframe) showing `frame`, in page coordinates: what to crop a screenshot to. */
export async function webviewBox(frame: Frame) {
  let outer = frame;
  while (outer.parentFrame() && outer.parentFrame() !== outer.page().mainFrame()) outer = outer.parentFrame()!;
  const box = await (await outer.frameElement()).boundingBox();
  if (!box) throw new Error('the webview is not on screen');
  return box;
}

/** Saves a screenshot of the whole workbench (or of `clip`) as `dir/name.png`. */
export async function screenshot(page: Page, dir: string, name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, ...(clip ? { clip } : {}) });
  return path;
}
