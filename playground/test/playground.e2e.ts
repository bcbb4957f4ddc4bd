// The playground end to end in Debian's Chromium: the page loads with the hello seed and
// reaches nowhere but its origin; a privileged instruction gets the language server's
// marker and its quick fix removes it; go to definition on a xen.inc macro shows the
// built-in file read-only; the outline, rename, formatting, code lenses and signature help work; a
// breakpoint set in the gutter stops the guest,
// stepping and stepping back change the registers view, the console shows the seed's
// transcript; the blkfront seed's shared ring is drawn. Screenshots: test-output/playground/.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchBrowser, ROOT } from '../../tests/e2e/vscode.js';
import { clickGutter, command, markers, markTime, MARKS, openPlayground, pickSeed, registers, waitForState, type Playground } from './page.js';

const OUTPUT = join(ROOT, 'test-output', 'playground');
const shot = (p: Playground, name: string) => p.page.screenshot({ path: join(OUTPUT, `${name}.png`) });
/** The line of `text` in a seed file (1-based). */
const lineOf = (file: string, text: string) => readFileSync(join(ROOT, 'seeds', file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

let browser: Browser;
let pg: Playground;

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launchBrowser();
  pg = await openPlayground(browser);
});

afterAll(async () => {
  await pg?.close();
  await browser?.close();
});

test('the page loads the hello seed, lints it, and reaches nothing but its origin', async () => {
  const ms = await markTime(pg.page, MARKS.firstDiagnostics);
  expect(await pg.page.locator('[data-file="hello.xasm"][aria-selected="true"]').count()).toBe(1);
  const csp = await pg.page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  expect(csp).toMatch(/default-src 'self'/);
  expect(csp).toMatch(/connect-src 'self'/);
  expect(pg.foreign).toEqual([]);
  expect(pg.errors).toEqual([]);
  await shot(pg, '1-loaded');
  console.log(`first diagnostics ${ms.toFixed(0)} ms after navigation`);
});

test('a privileged instruction gets the language server\'s marker, and its quick fix removes it', async () => {
  const line = lineOf('hello.xasm', 'mov esp, stack_top');
  await pg.page.evaluate((l) => {
    const { editor, monaco } = (window as any).xenolab;
    editor.executeEdits('test', [{ range: new monaco.Range(l, 1, l, 1), text: '    cli\n' }]);
    editor.setPosition({ lineNumber: l, column: 6 });
    editor.focus();
  }, line);
  // What `xenolab lint` says of the same text is the message the marker must carry.
  const edited = await pg.page.evaluate(() => (window as any).xenolab.editor.getModel().getValue());
  const file = join(OUTPUT, 'hello-cli.xasm');
  writeFileSync(file, edited);
  let lint = '';
  try { execFileSync('node', [join(ROOT, 'bin/xenolab.mjs'), 'lint', file], { encoding: 'utf8' }); } catch (e) { lint = (e as { stdout: string }).stdout; }
  const expected = new RegExp(`:${line}:\\d+: \\w+ privileged-instruction: (.*)$`, 'm').exec(lint)?.[1];
  expect(expected).toBeTruthy();
  await expect.poll(() => markers(pg.page), { timeout: 20_000 }).toContainEqual({ code: 'privileged-instruction', message: expected, line });
  await shot(pg, '2-privileged-marker');

  await pg.page.keyboard.press('Control+.');
  const fix = pg.page.locator('.action-widget .action-item, .context-view .monaco-list-row').first();
  await fix.waitFor({ timeout: 10_000 });
  await shot(pg, '3-quick-fix-menu');
  await pg.page.keyboard.press('Enter');
  await expect.poll(async () => (await markers(pg.page)).filter((m) => m.code === 'privileged-instruction'), { timeout: 20_000 }).toEqual([]);
  await shot(pg, '4-quick-fix-applied');
});

test('go to definition on a xen.inc macro shows the built-in file, read-only, in a tab of its own', async () => {
  // in the text as the test before left it (a line longer than the seed)
  const line = await pg.page.evaluate(() => (window as any).xenolab.editor.getModel().getValue().split('\n').indexOf('    HYPERCALL console_io') + 1);
  expect(line).toBeGreaterThan(0);
  const state = () => pg.page.evaluate(() => {
    const { editor } = (window as any).xenolab;
    const model = editor.getModel();
    return { uri: model.uri.toString(), line: model.getLineContent(editor.getPosition().lineNumber), readOnly: editor.getRawOptions().readOnly };
  });
  await pg.page.evaluate((l) => {
    const { editor } = (window as any).xenolab;
    editor.setPosition({ lineNumber: l, column: 6 });
    editor.focus();
  }, line);
  await pg.page.keyboard.press('F12');
  await pg.page.locator('[data-builtin="xen.inc"][aria-selected="true"]').waitFor({ timeout: 10_000 });
  expect(await state()).toEqual({ uri: 'xenolab-builtin:/xen.inc', line: '%macro HYPERCALL 1', readOnly: true });
  expect(await pg.page.locator('[data-file][aria-selected="true"]').count()).toBe(0);
  await shot(pg, '5-builtin-definition');
  // hello.xasm's tab brings it back where it was, editable; the built-in file's tab goes
  await pg.page.click('[data-file="hello.xasm"]');
  expect(await state()).toEqual({ uri: 'file:///workspace/hello.xasm', line: '    HYPERCALL console_io', readOnly: false });
  expect(await pg.page.locator('[data-builtin]').count()).toBe(0);
  expect(pg.errors).toEqual([]);
});

test('the outline, renaming, formatting, code lenses and signature help come from the language server', async () => {
  await pickSeed(pg.page, 'pagetables');
  const text = () => pg.page.evaluate(() => (window as any).xenolab.editor.getModel().getValue() as string);
  const lineOfText = async (t: string) => (await text()).split('\n').indexOf(t) + 1;
  const at = (lineNumber: number, column: number) => pg.page.evaluate(([l, c]) => {
    const { editor } = (window as any).xenolab;
    editor.setPosition({ lineNumber: l, column: c });
    editor.focus();
  }, [lineNumber, column]);
  // the lens over the loop that maps one page per hypercall (lenses are drawn where the editor shows)
  await pg.page.evaluate((l) => (window as any).xenolab.editor.revealLineInCenter(l), await lineOfText('.fill:'));
  await pg.page.locator('.codelens-decoration', { hasText: '1 hypercall in this loop' }).first().waitFor({ timeout: 20_000 });
  // Ctrl+Shift+O: the file's labels
  await at(1, 1);
  await pg.page.keyboard.press('Control+Shift+O');
  await pg.page.locator('.quick-input-widget .monaco-list-row', { hasText: '_start' }).first().waitFor({ timeout: 10_000 });
  await shot(pg, '6-outline');
  await pg.page.keyboard.press('Escape');
  // F2 on _start: every use renamed
  const uses = ((await text()).match(/\b_start\b/g) ?? []).length;
  expect(uses).toBeGreaterThan(1);
  await at(await lineOfText('_start:'), 2);
  await pg.page.keyboard.press('F2');
  const box = pg.page.locator('.rename-box input');
  await box.waitFor({ timeout: 10_000 });
  await box.fill('kernel_entry');
  await pg.page.keyboard.press('Enter');
  await expect.poll(async () => ((await text()).match(/\bkernel_entry\b/g) ?? []).length, { timeout: 10_000 }).toBe(uses);
  expect(await text()).not.toMatch(/\b_start\b/);
  // Format Document puts a line written loosely back in shape
  const line = await lineOfText('    mov esp, stack_top');
  await pg.page.evaluate((l) => {
    const { editor, monaco } = (window as any).xenolab;
    editor.executeEdits('test', [{ range: new monaco.Range(l, 1, l, editor.getModel().getLineMaxColumn(l)), text: 'mov    esp ,stack_top' }]);
  }, line);
  await pg.page.evaluate(() => (window as any).xenolab.editor.getAction('editor.action.formatDocument').run());
  await expect.poll(async () => (await text()).split('\n')[line - 1], { timeout: 10_000 }).toBe('    mov esp, stack_top');
  // typing a macro call: its parameters (signature help)
  await at(line, 100);
  await pg.page.keyboard.press('End');
  await pg.page.keyboard.press('Enter');
  await pg.page.keyboard.type('HYPERCALL');
  await pg.page.keyboard.press('Escape'); // the completion list
  await pg.page.keyboard.type(' ');
  await pg.page.locator('.parameter-hints-widget', { hasText: 'HYPERCALL' }).waitFor({ timeout: 10_000 });
  await shot(pg, '7-signature-help');
  await pg.page.keyboard.press('Escape');
  expect(pg.errors).toEqual([]);
});

test('a gutter breakpoint stops the guest; step and step back change the registers; the console shows the transcript', async () => {
  await pickSeed(pg.page, 'hello');
  const line = lineOf('hello.xasm', 'mov ebx, CONSOLEIO_write');
  await clickGutter(pg.page, line);
  await pg.page.locator('.breakpoint').first().waitFor();
  await command(pg.page, 'run');
  await waitForState(pg.page, 'stopped');
  const atBreakpoint = await registers(pg.page);
  expect(await pg.page.locator('.current-line').count()).toBeGreaterThan(0);
  await shot(pg, '5-breakpoint');

  await command(pg.page, 'next');
  await pg.page.waitForFunction(() => performance.getEntriesByName('xenolab:stopped').length >= 2);
  const stepped = await registers(pg.page);
  expect(stepped['eip']).not.toBe(atBreakpoint['eip']);
  expect(await pg.page.locator('#registers tr.changed').count()).toBeGreaterThan(0);

  await command(pg.page, 'stepBack');
  await pg.page.waitForFunction(() => performance.getEntriesByName('xenolab:stopped').length >= 3);
  const back = await registers(pg.page);
  expect(back['eip']).toBe(atBreakpoint['eip']);
  expect(back).not.toEqual(stepped);
  await shot(pg, '6-stepped-back');

  await command(pg.page, 'continue');
  const transcript = readFileSync(join(ROOT, 'seeds', 'hello.console'), 'utf8');
  await expect.poll(() => pg.page.textContent('#console'), { timeout: 30_000 }).toContain(transcript);
  await shot(pg, '7-console');
});

test('the rings view draws the blkfront seed\'s shared ring', async () => {
  await pickSeed(pg.page, 'blkfront');
  await pg.page.locator('[data-file="blkfront.xasm"][aria-selected="true"]').waitFor();
  await clickGutter(pg.page, lineOf('blkfront/blkfront.xasm', '.answer:') + 1);
  await command(pg.page, 'run');
  await waitForState(pg.page, 'stopped');
  const ring = pg.page.locator('#panel article[data-ring] svg.ring');
  await ring.first().waitFor({ timeout: 30_000 });
  expect(await pg.page.locator('#panel svg.ring path.slot').count()).toBeGreaterThan(0);
  expect(await pg.page.locator('#panel svg.ring path.slot:not(.state-free)').count()).toBeGreaterThan(0);
  await pg.page.locator('#panel').screenshot({ path: join(OUTPUT, '8-rings.png') });
  await shot(pg, '9-blkfront');
  expect(pg.foreign).toEqual([]);
});
