// The seeds "New Guest from Seed" offers, from the real seeds/ folder: every kernel and
// every folder of domains, described, with what to copy and what to run together.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asmAssociations } from '../src/asm-association.js';
import { describe as describeSeed, seedLaunchConfiguration, seedsFrom, type SeedEntry } from '../src/seeds.js';

const seedsDir = join(import.meta.dirname, '..', '..', 'seeds');

function listing(): SeedEntry[] {
  const out: SeedEntry[] = [];
  const entry = (path: string) => ({ path, text: path.endsWith('.xasm') ? readFileSync(join(seedsDir, path), 'utf8') : undefined });
  for (const name of readdirSync(seedsDir)) {
    if (statSync(join(seedsDir, name)).isDirectory()) for (const inner of readdirSync(join(seedsDir, name))) out.push(entry(`${name}/${inner}`));
    else out.push(entry(name));
  }
  return out;
}

describe('seeds', () => {
  it('offers every seed kernel and folder, each described by its first sentence', () => {
    const seeds = seedsFrom(listing());
    expect(seeds.map((s) => s.name)).toEqual(['blkfront', 'events', 'hello', 'many', 'netfront', 'pagetables', 'pingpong', 'smp', 'traps']);
    const hello = seeds.find((s) => s.name === 'hello')!;
    expect(hello).toEqual({ name: 'hello', description: 'the smallest useful Xen PV guest kernel.', files: ['hello.xasm'], main: 'hello.xasm', configs: [] });
    expect(seeds.find((s) => s.name === 'pagetables')!.description).toMatch(/^builds a new L1 page table and maps 4 MiB through it, first the slow way, then the fast one\.$/);
    for (const s of seeds) expect(s.description.length).toBeGreaterThan(10);
  });

  it('copies a folder seed without its transcript, and runs its xl.cfg files together', () => {
    const pingpong = seedsFrom(listing()).find((s) => s.name === 'pingpong')!;
    expect(pingpong.files).toEqual(['pingpong/ping.cfg', 'pingpong/pingpong.xasm', 'pingpong/pong.cfg']);
    expect(pingpong.main).toBe('pingpong/pingpong.xasm');
    expect(seedLaunchConfiguration(pingpong, '/ws/pingpong-2')).toEqual({
      type: 'xenolab', request: 'launch', name: 'Run pingpong (2 domains)', program: ['/ws/pingpong-2/ping.cfg', '/ws/pingpong-2/pong.cfg'],
    });
    const blkfront = seedsFrom(listing()).find((s) => s.name === 'blkfront')!;
    expect(blkfront.files).toContain('blkfront/disk.img');
    expect(seedLaunchConfiguration(seedsFrom(listing()).find((s) => s.name === 'hello')!, '/ws')).toBeNull();
  });

  it('describes a source without a header comment as nothing, and cuts long sentences', () => {
    expect(describeSeed('bits 32\n')).toBe('');
    expect(describeSeed(`; x.xasm: ${'word '.repeat(60)}end.`).length).toBe(140);
  });
});

describe('asmAssociations', () => {
  it('adds *.asm → xasm when turned on and removes only its own entry when turned off', () => {
    expect(asmAssociations(undefined, true)).toEqual({ '*.asm': 'xasm' });
    expect(asmAssociations({ '*.inc': 'xasm' }, true)).toEqual({ '*.inc': 'xasm', '*.asm': 'xasm' });
    expect(asmAssociations({ '*.asm': 'xasm' }, true)).toBeNull();
    expect(asmAssociations({ '*.asm': 'xasm', '*.inc': 'xasm' }, false)).toEqual({ '*.inc': 'xasm' });
    expect(asmAssociations({ '*.asm': 'xasm' }, false)).toBeUndefined();
    expect(asmAssociations({ '*.asm': 'arm' }, false)).toBeNull();
    expect(asmAssociations({ '*.asm': 'arm' }, true)).toEqual({ '*.asm': 'xasm' });
  });
});
