// Driving the playground page from tests and the bench: the built page served, opened in
// Debian's Chromium (tests/e2e's launcher: no host name resolves), and the gestures a
// person makes, in the page's own terms (lines, markers, toolbar commands).

import type { Browser, Page } from 'playwright-core';
import { serve } from '../serve.mjs';
import { OUT } from '../build.mjs';
import { MARKS } from '../src/marks.js';

export { MARKS };

export interface Playground {
  page: Page;
  url: string;
  /** Requests to anywhere but the page's origin (must stay empty). */
  foreign: string[];
  errors: string[];
  close(): Promise<void>;
}

export async function openPlayground(browser: Browser, fragment = ''): Promise<Playground> {
  const { server, url } = await serve(OUT, 0);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const foreign: string[] = [], errors: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url + fragment);
  return { page, url, foreign, errors, close: async () => { await context.close(); server.close(); } };
}

/** Milliseconds from navigation to the performance mark `name` (waits for it). */
export async function markTime(page: Page, name: string, timeout = 60_000): Promise<number> {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout });
  return page.evaluate((n) => performance.getEntriesByName(n)[0]!.startTime, name);
}

/** The markers monaco shows in the editor's model: code and message. */
export function markers(page: Page): Promise<{ code: string; message: string; line: number }[]> {
  return page.evaluate(() => {
    const { editor, monaco } = (window as any).xenolab;
    return monaco.editor.getModelMarkers({ resource: editor.getModel().uri })
      .map((m: any) => ({ code: String(m.code), message: m.message, line: m.startLineNumber }));
  });
}

/** Clicks the glyph margin of `line` (scrolled into view first), as a person sets a breakpoint. */
export async function clickGutter(page: Page, line: number): Promise<void> {
  const at = await page.evaluate((l) => {
    const { editor } = (window as any).xenolab;
    editor.revealLineInCenter(l);
    const box = editor.getDomNode().getBoundingClientRect();
    return { x: box.left + editor.getLayoutInfo().glyphMarginLeft + 6, y: box.top + editor.getTopForLineNumber(l) - editor.getScrollTop() + 8 };
  }, line);
  await page.mouse.click(at.x, at.y);
}

export async function command(page: Page, name: string): Promise<void> {
  await page.click(`[data-command="${name}"]:not([disabled])`);
}

export function waitForState(page: Page, state: string, timeout = 60_000): Promise<unknown> {
  return page.waitForFunction((s) => document.body.dataset['debugState'] === s, state, { timeout });
}

/** The registers view: name → value. */
export function registers(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#registers tr', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-register'), r.querySelector('td')?.textContent ?? ''])));
}

export async function pickSeed(page: Page, seed: string): Promise<void> {
  await page.selectOption('#seed', seed);
}
