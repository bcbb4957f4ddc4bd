// The server's policies in Chromium: the page (its own Content-Security-Policy) and every
// worker may not eval, except the debug adapter's worker, whose CPU compiles hot guest
// code into functions. Probe scripts stand in for the real ones, under the real policy.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { launchBrowser, ROOT } from '../../tests/e2e/vscode.js';
import { pageCsp, serve } from '../serve.mjs';

test('only the debug adapter\'s worker may compile code; the page and other workers may not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-csp-'));
  const meta = `<meta http-equiv="Content-Security-Policy" content="${pageCsp(join(ROOT, 'playground'))}">`;
  writeFileSync(join(dir, 'index.html'), `<!doctype html><html><head>${meta}</head><body><script src="probe.js"></script></body></html>`);
  const canEval = 'try { return new Function("return 1")() === 1; } catch { return false; }';
  writeFileSync(join(dir, 'probe.js'), `window.results = { page: (() => { ${canEval} })() };
for (const name of ['xenolab-dap-worker.js', 'xenolab-lsp-worker.js']) new Worker(name).onmessage = (e) => { window.results[name] = e.data; };`);
  for (const name of ['xenolab-dap-worker.js', 'xenolab-lsp-worker.js']) writeFileSync(join(dir, name), `postMessage((() => { ${canEval} })());`);
  const { server, url } = await serve(dir, 0);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => Object.keys((window as unknown as { results: object }).results).length === 3);
    expect(await page.evaluate(() => (window as unknown as { results: object }).results)).toEqual({ page: false, 'xenolab-dap-worker.js': true, 'xenolab-lsp-worker.js': false });
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
