// The recorded adapter responses the view-model tests run on (client/test/fixtures/*.json,
// written by record-fixtures.ts from the real adapter): their shapes, and a typed loader.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  DomainsBody, EventChannelsBody, FrameMapBody, GrantTablesBody, HypercallLogBody, PageTablesBody, RingsBody, TranslateBody,
} from '../../protocol/src/index.js';

/** A memory range as the Memory panel reads it: readMemory's body and xen/translate's. */
export interface RecordedMemory {
  reference: string;
  read: { address: string; data?: string; unreadableBytes?: number };
  translate: TranslateBody;
}

export interface BlkfrontStop {
  domains: DomainsBody;
  rings: RingsBody;
  grantTables: GrantTablesBody;
  eventChannels: EventChannelsBody;
  hypercallLog: HypercallLogBody;
}

export interface PingpongStop {
  domains: DomainsBody;
  /** dom1's, then dom2's. */
  eventChannels: EventChannelsBody[];
  grantTables: GrantTablesBody[];
  hypercallLog: HypercallLogBody;
}

export interface PagetablesStop {
  domains: DomainsBody;
  /** The page directory alone (no slot opened). */
  pageTables: PageTablesBody;
  /** The guest's slots opened, 8 entries each at most. */
  expanded: PageTablesBody;
  frameMap: FrameMapBody;
  /** 256 bytes of the seed's mmu_update request array. */
  memory: RecordedMemory;
}

export interface Fixtures {
  blkfront: BlkfrontStop[];
  pingpong: PingpongStop[];
  pagetables: PagetablesStop[];
}

export const FIXTURES_DIR = join(import.meta.dirname, 'fixtures');

/** Two stops of a seed: [the earlier, the later]. */
export function fixture<K extends keyof Fixtures>(name: K): Fixtures[K] {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8')) as Fixtures[K];
}
