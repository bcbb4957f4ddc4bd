// Benchmark: the browser playground in Debian's Chromium (`npm run bench -- playground`,
// after `node playground/build.mjs`):
//  - page load → first diagnostics (the language server's first publish, as markers), over
//    fresh browser contexts (no cache);
//  - step latency in the page: a click on Step Over → the adapter's stop → stack, scopes and
//    registers fetched and the registers view drawn (the page's `stopped` mark), measured
//    inside the page so that the test driver's round trips do not count.
// The page's server (playground/serve.mjs, which builds with esbuild) is loaded at run time.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../e2e/vscode.js';
import { MARKS } from '../../playground/src/marks.js';

const ROOT = process.cwd();
const LOADS = 5;
const STEPS = 40;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function run(): Promise<void> {
  const { serve } = await import(pathToFileURL(join(ROOT, 'playground/serve.mjs')).href);
  const { server, url } = await serve(join(ROOT, 'dist/playground'), 0);
  const browser = await launchBrowser();
  try {
    const loads: number[] = [];
    let page!: Page;
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, MARKS.firstDiagnostics, { timeout: 60_000 });
      loads.push(await page.evaluate((n) => performance.getEntriesByName(n)[0]!.startTime, MARKS.firstDiagnostics));
      if (i < LOADS - 1) await context.close();
    }
    // Stop at _start with a breakpoint on its first line, then step over and over.
    await page.evaluate(() => {
      const { editor } = (window as any).xenolab;
      const line = editor.getModel().getValue().split('\n').findIndex((l: string) => l.startsWith('_start:')) + 2;
      editor.revealLineInCenter(line);
      const box = editor.getDomNode().getBoundingClientRect();
      const init = { bubbles: true, clientX: box.left + editor.getLayoutInfo().glyphMarginLeft + 6, clientY: box.top + editor.getTopForLineNumber(line) - editor.getScrollTop() + 8 };
      return init;
    }).then((at) => page.mouse.click(at.clientX, at.clientY));
    await page.click('[data-command="run"]');
    await page.waitForFunction(() => document.body.dataset['debugState'] === 'stopped', null, { timeout: 60_000 });
    const steps = await page.evaluate(async ({ n, mark }) => {
      const out: number[] = [];
      const button = document.querySelector<HTMLButtonElement>('[data-command="next"]')!;
      for (let i = 0; i < n; i++) {
        const before = performance.getEntriesByName(mark).length;
        const t0 = performance.now();
        button.click();
        while (performance.getEntriesByName(mark).length === before) await new Promise((r) => setTimeout(r, 0));
        out.push(performance.now() - t0);
      }
      return out;
    }, { n: STEPS, mark: MARKS.stopped });
    console.log(`Playground in Chromium (${(await browser.version())}), served from dist/playground on loopback`);
    console.log(`  page load → first diagnostics (${LOADS} fresh loads): p50 ${pct(loads, 50).toFixed(0)} ms, max ${Math.max(...loads).toFixed(0)} ms`);
    console.log(`  step over → registers drawn (${STEPS} steps, hello seed): p50 ${pct(steps, 50).toFixed(1)} ms, p95 ${pct(steps, 95).toFixed(1)} ms`);
  } finally {
    await browser.close();
    server.close();
  }
}
