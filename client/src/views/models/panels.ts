// What the webview panels and their hosts say to each other: the host (VS Code's
// WebviewPanel, or the playground's page) posts a panel's model; the panel asks for
// things back. Plain JSON, so the same renderers serve both hosts.

import type { FrameMapModel } from './frameMap.js';
import type { MemoryModel } from './memory.js';
import type { AddressSpaceKind } from './memoryReference.js';
import type { PageTablesModel } from './pageTables.js';
import type { ProfileModel } from './profile.js';
import type { RingsModel } from './rings.js';

export interface PanelModels {
  pageTables: PageTablesModel;
  memory: MemoryModel;
  frameMap: FrameMapModel;
  rings: RingsModel;
  profile: ProfileModel;
}

export type PanelKind = keyof PanelModels;

/** Host → panel. */
export type ToPanel =
  | { [K in PanelKind]: { type: 'model'; panel: K; model: PanelModels[K] } }[PanelKind]
  /** Nothing to show (no xenolab debug session, or it is running): the reason. */
  | { type: 'empty'; message: string };

/** Panel → host. */
export type FromPanel =
  /** The panel is listening (the host posts the latest model). */
  | { type: 'ready' }
  /** Open the memory panel at a memory reference (`m:0x...`, `d1:0x...`, `p1:0x...`). */
  | { type: 'openMemory'; reference: string }
  /** Page Tables: open or close a page-directory slot's table. */
  | { type: 'toggleSlot'; slot: number }
  /** Memory: read another range. */
  | { type: 'goTo'; space: AddressSpaceKind; domain: number; address: number; count: number }
  /** Memory: the same range in VS Code's own memory view (through the adapter's readMemory). */
  | { type: 'openNativeMemoryView'; reference: string };

/** The host side of a panel, for renderers: how they talk back. */
export interface PanelHost {
  post(message: FromPanel): void;
}
