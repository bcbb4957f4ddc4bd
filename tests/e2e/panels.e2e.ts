// The Xen side panels of the real extension in a real VS Code (code-server + Chromium), on a
// copy of seeds/blkfront (a guest with a disk on dom0's block backend) launched from a
// launch.json naming its xl.cfg: stopped before its third block request, the Domains, Event
// Channels and Grant Tables trees and the I/O Rings webview show the ring's indices; a step
// over the request moves them, marked as changed. Then every panel is shown and cropped to
// a screenshot: test-output/e2e/panels/, and docs/screenshots/ (committed, linked from the
// README) when XENOLAB_UPDATE_SCREENSHOTS=1.

import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { extensionSession } from './session.js';
import {
  OUTPUT, ROOT, clickGutter, currentLine, goToLine, openViewContainer, pane, paneRows, quickOpen, runCommand, screenshot, webviewBox, webviewFrame,
} from './vscode.js';

const SHOTS = join(OUTPUT, 'panels');
const DOCS = join(ROOT, 'docs', 'screenshots');
const UPDATE_DOCS = process.env.XENOLAB_UPDATE_SCREENSHOTS === '1';

/** `call block_io` of the third request (a read of sectors 8-15), and the line after it. */
const THIRD_REQUEST = 177;

// The domain with its disk comes from the xl.cfg file (configuration snippet "Run xl.cfg domains");
// the debug toolbar docked in the Run and Debug view: floating, it covers editor tabs the test clicks.
const session = extensionSession('panels', (workspace) => {
  for (const f of readdirSync(join(ROOT, 'seeds', 'blkfront'))) copyFileSync(join(ROOT, 'seeds', 'blkfront', f), join(workspace, f));
  mkdirSync(join(workspace, '.vscode'));
  writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify({
    version: '0.2.0',
    configurations: [{ type: 'xenolab', request: 'launch', name: 'blkfront with its disk', program: '${workspaceFolder}/blkfront.cfg' }],
  }, null, 2));
}, { 'debug.toolBarLocation': 'docked' });
let page: Page;
beforeAll(() => {
  page = session.page;
});
const shot = session.shot;

/** The text of each index pointer drawn around the ring (`req_prod 3`), by name. */
async function pointers(rings: Frame): Promise<Record<string, string>> {
  const list = await rings.locator('article[data-ring="dom1 blkif vbd 51712"] svg.ring g.pointer').evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-pointer')!, `${e.querySelector('text')!.textContent}${e.classList.contains('changed') ? ' (changed)' : ''}`]));
  return Object.fromEntries(list);
}

/** The rows of a ring's entry table ('Requests in the ring', 'Responses still readable'). */
async function entryRows(rings: Frame, title: string): Promise<string[]> {
  const section = rings.locator('article[data-ring="dom1 blkif vbd 51712"] section', { has: rings.locator('h3', { hasText: title }) });
  return section.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent).join(' | ')));
}

it('stops at a breakpoint in blkfront.xasm launched from its xl.cfg', async () => {
  await quickOpen(page, 'blkfront.xasm');
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await goToLine(page, THIRD_REQUEST);
  await clickGutter(page, THIRD_REQUEST);
  await page.keyboard.press('F5');
  await paneRows(page, 'Call Stack', `${THIRD_REQUEST}:5`).waitFor({ timeout: 90_000 });
  // The disk's first sector was read and printed on the way.
  await page.locator('.repl', { hasText: 'Hello from sector 0 of disk.img' }).waitFor({ timeout: 10_000 });
  await shot('stopped');
});

it('shows the domain, its event channels and grants in the Xen trees', async () => {
  await openViewContainer(page, 'Xen');
  const domain = paneRows(page, 'Domains', 'dom1 (blkfront)');
  await domain.waitFor({ timeout: 30_000 });
  // memory = 8 in blkfront.cfg: 8 MiB, 2,048 pages.
  expect(await domain.innerText()).toMatch(/running · 2,048 pages · 1 vCPU/);
  await paneRows(page, 'Domains', 'vCPU 0').waitFor();
  // The block device's channel, bound to dom0's backend, beside xenstore's and the console's.
  await expect.poll(() => paneRows(page, 'Event Channels', /^port 3/).innerText(), { timeout: 10_000 }).toMatch(/dom0 port 3 \(blkif vbd 51712\)/);
  // The ring (ref 8) and the data page (ref 9) granted to dom0.
  await expect.poll(() => paneRows(page, 'Grant Tables', /^ref 8/).innerText(), { timeout: 10_000 }).toMatch(/^ref 8\s*→ dom0 · frame 0x[0-9a-f]+/);
  await paneRows(page, 'Grant Tables', /^ref 9\s*→ dom0/).waitFor();
  await shot('trees');
});

it('draws the block ring with its producer and consumer indices, and moves them on a step', async () => {
  await pane(page, 'Domains').hover();
  await pane(page, 'Domains').locator('.pane-header .action-label[aria-label="Show I/O Rings"]').click();
  let rings = await webviewFrame(page, 'I/O rings');
  await rings.locator('article[data-ring="dom1 blkif vbd 51712"]').waitFor({ timeout: 30_000 });
  expect(await rings.locator('ul.devices li').first().innerText()).toMatch(/^dom1 vbd 51712 vbd 51712 · connected/);
  expect(await rings.locator('article[data-ring="dom1 blkif vbd 51712"] svg.ring path.slot').count()).toBe(32);
  // Two requests made and answered (a read of sector 0, a write of sectors 8-15).
  expect(await pointers(rings)).toMatchObject({ req_prod: 'req_prod 2', req_cons: 'req_cons 2', rsp_prod: 'rsp_prod 2' });
  expect(await entryRows(rings, 'Responses still readable')).toEqual([
    '0 | 0 | answered | BLKIF_OP_READ id 0 → BLKIF_RSP_OKAY',
    '1 | 1 | answered | BLKIF_OP_WRITE id 1 → BLKIF_RSP_OKAY',
  ]);
  await shot('rings-before');

  await page.keyboard.press('F10');
  // (The Call Stack is in the Run and Debug container, not shown: the editor's current line says where it stopped.)
  await expect.poll(() => currentLine(page), { timeout: 60_000 }).toBe(THIRD_REQUEST + 1);
  rings = await webviewFrame(page, 'I/O rings');
  await expect.poll(() => pointers(rings), { timeout: 30_000 }).toMatchObject({
    req_prod: 'req_prod 3 (changed)', req_cons: 'req_cons 3 (changed)', rsp_prod: 'rsp_prod 3 (changed)',
  });
  expect(await entryRows(rings, 'Responses still readable')).toEqual([
    '0 | 0 | answered | BLKIF_OP_READ id 0 → BLKIF_RSP_OKAY',
    '1 | 1 | answered | BLKIF_OP_WRITE id 1 → BLKIF_RSP_OKAY',
    '2 | 2 | answered | BLKIF_OP_READ id 2 → BLKIF_RSP_OKAY',
  ]);
  expect(await entryRows(rings, 'Requests in the ring')).toEqual([]);
  expect(await rings.locator('article[data-ring="dom1 blkif vbd 51712"] path.slot.state-answered').count()).toBe(3);
  await shot('rings-after');
});

// ---------------------------------------------------------------------------------------
// A screenshot of each panel, cropped to it.

/** Saves a cropped screenshot as test-output/e2e/panels/<name>.png, and in docs/screenshots/ when asked. */
async function panelShot(name: string, clip: { x: number; y: number; width: number; height: number }): Promise<void> {
  const path = await screenshot(page, SHOTS, `panel-${name}`, clip);
  if (UPDATE_DOCS) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, `${name}.png`));
  }
}

/** A tree view alone in the sidebar (the others collapsed), cropped to its rows. */
async function shootTree(title: string, name: string, expand: string[] = []): Promise<void> {
  for (const t of ['Domains', 'Event Channels', 'Grant Tables']) {
    const header = page.locator(`.part.sidebar .pane-header[aria-label="${t} Section"]`);
    if ((await header.getAttribute('aria-expanded') === 'true') !== (t === title)) await header.click();
  }
  for (const label of expand) {
    const row = paneRows(page, title, label).first();
    if (await row.getAttribute('aria-expanded') === 'false') await row.locator('.monaco-tl-twistie').click();
    await expect.poll(() => row.getAttribute('aria-expanded')).toBe('true');
  }
  const box = (await pane(page, title).boundingBox())!;
  const rows = await pane(page, title).locator('.monaco-list-row').evaluateAll((els) => Math.max(...els.map((e) => e.getBoundingClientRect().bottom)));
  await panelShot(name, { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, rows - box.y + 8) });
}

/** A webview panel, brought forward by its tab, cropped to its content. */
async function shootWebview(tab: string, heading: string | RegExp, name: string, prepare?: (f: Frame) => Promise<void>): Promise<Frame> {
  await page.locator('.tabs-container .tab', { hasText: tab }).click();
  const frame = await webviewFrame(page, heading);
  await prepare?.(frame);
  const box = await webviewBox(frame);
  // Down to the end of what the panel drew (the webview itself fills the window).
  const content = await frame.locator('#root').evaluate((e) => Math.ceil(e.getBoundingClientRect().bottom) + 16);
  await panelShot(name, { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, content) });
  return frame;
}

it('shows each panel (screenshots of the trees and the webviews)', async () => {
  // A wider sidebar, so that the trees' descriptions are not cut short.
  const sash = (await page.locator('.monaco-sash.primary-sidebar-sash').boundingBox())!;
  await page.mouse.move(sash.x + sash.width / 2, 400);
  await page.mouse.down();
  await page.mouse.move(640, 400, { steps: 5 });
  await page.mouse.up();
  await shootTree('Domains', 'domains', ['Counters', 'hypercalls', 'I/O']);
  await shootTree('Event Channels', 'event-channels');
  await shootTree('Grant Tables', 'grant-tables');

  // The other panels from the command palette, while the source's editor group is the
  // active one: each opens beside it, in the group I/O Rings is in.
  await page.locator('.tabs-container .tab', { hasText: 'blkfront.xasm' }).click();
  for (const [command, tab] of [['Show Page Tables', 'Page Tables'], ['Show Memory', 'Memory'], ['Show Frame Map', 'Frame Map'], ['Show Hypercall Profile', 'Hypercall Profile']]) {
    await runCommand(page, `xenolab: ${command}`);
    await page.locator('.tabs-container .tab', { hasText: tab }).waitFor({ timeout: 30_000 });
  }
  // The webviews get the whole window: no sidebar, no bottom panel, their editor group maximised.
  await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
  await page.locator('.part.sidebar').waitFor({ state: 'hidden' });
  await runCommand(page, 'View: Hide Panel');
  await page.locator('.tabs-container .tab', { hasText: 'I/O Rings' }).click();
  await runCommand(page, 'View: Toggle Maximize Editor Group');

  const tables = await shootWebview('Page Tables', 'Page tables of dom1 vCPU 0', 'page-tables', async (f) => {
    await f.locator('button.toggle[title="open this page table"]').first().click();
    await f.locator('tr.level-1').first().waitFor();
  });
  expect(await tables.locator('tr.level-2').first().innerText()).toMatch(/L2\[768\]\s+0xc0000000–0xc03fffff/);
  const memory = await shootWebview('Memory', 'Memory: dom1 guest virtual 0xc0000000', 'memory');
  // The kernel's first bytes: cld (fc), mov esp, imm32 (bc ...).
  expect(await memory.locator('body').innerText()).toMatch(/0xc0000000\s+fc bc/);
  const frames = await shootWebview('Frame Map', 'Frame map', 'frame-map');
  expect(await frames.locator('body').innerText()).toContain('dom1 (blkfront)');
  await shootWebview('I/O Rings', 'I/O rings', 'io-rings');
  const profile = await shootWebview('Hypercall Profile', 'Hypercall profile', 'hypercall-profile');
  expect(await profile.locator('[data-domain] h2').first().innerText()).toBe('dom1 (blkfront)');
  expect(await profile.locator('g.bar', { hasText: 'grant_table_op' }).count()).toBe(1);
  expect(session.workbench.foreignRequests).toEqual([]);
});
