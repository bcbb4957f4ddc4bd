// The views' contributions in package.json: the "Xen" container with its three trees, every
// command the views register, and menus that name only declared commands.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, VIEW_CONTAINER, VIEW_IDS } from '../../src/views/ids.js';

interface Contributes {
  viewsContainers: { activitybar: { id: string; title: string; icon: string }[] };
  views: Record<string, { id: string; name: string }[]>;
  commands: { command: string; title: string }[];
  menus: Record<string, { command: string; when?: string }[]>;
}

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: Contributes };
const c = manifest.contributes;

describe('views contributions', () => {
  it('a "Xen" view container holding Domains, Event Channels and Grant Tables', () => {
    expect(c.viewsContainers.activitybar.find((v) => v.id === VIEW_CONTAINER)?.title).toBe('Xen');
    expect(c.views[VIEW_CONTAINER].map((v) => [v.id, v.name])).toEqual([
      [VIEW_IDS.domains, 'Domains'], [VIEW_IDS.eventChannels, 'Event Channels'], [VIEW_IDS.grantTables, 'Grant Tables'],
    ]);
  });

  it('every command the views register is declared, and every menu entry names a declared command', () => {
    const declared = new Set(c.commands.map((x) => x.command));
    for (const id of Object.values(COMMANDS)) expect(declared.has(id), id).toBe(true);
    for (const [menu, entries] of Object.entries(c.menus)) for (const e of entries) expect(declared.has(e.command), `${menu}: ${e.command}`).toBe(true);
  });

  it('domain actions show by state: pause on running or blocked domains, unpause on paused ones', () => {
    const when = (command: string) => c.menus['view/item/context'].filter((e) => e.command === command).map((e) => e.when);
    expect(when(COMMANDS.pause)).toContain('view == xenolab.domains && viewItem =~ /^xenDomain\\.(running|blocked)$/');
    expect(when(COMMANDS.unpause)).toContain('view == xenolab.domains && viewItem == xenDomain.paused');
  });
});
