// Snapshots of the whole machine: restoring one and running on repeats, state for state,
// what the machine did the first time, for every seed (one and several domains, rings,
// grants, xenstore, timers), whichever snapshot is restored and in whatever order.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFiles } from '../../cli/src/nodeProvider.js';
import { bootMachine, type Machine } from '../../hypervisor/src/xen/boot.js';
import { History } from '../../hypervisor/src/xen/history.js';
import { loadLaunch } from '../src/launch.js';

const SEEDS = join(__dirname, '..', '..', 'seeds');

export function bootSeedMachine(...programs: string[]): Machine {
  const r = loadLaunch({ program: programs.map((p) => join(SEEDS, p)) }, nodeFiles);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const m = bootMachine(r.domains.map((d) => d.spec));
  if ('error' in m) throw new Error(m.error);
  return m;
}

/** Everything observable: memory, every vCPU's registers and TLB, the clock, each domain's state and console. */
function fingerprint(m: Machine): string {
  const { xen } = m;
  let h = 0x811c9dc5;
  const words = xen.mem.words;
  for (let k = 0; k < words.length; k++) h = Math.imul(h ^ words[k], 0x01000193);
  const doms = [...xen.domains.values()].map((d) => ({
    id: d.domain, state: d.state, console: d.consoleText, counters: { ...d.counters, hypercalls: [...d.counters.hypercalls], trapsByVector: [...d.counters.trapsByVector] },
    vcpus: d.vcpus.map((v) => ({ cpu: v.cpu.state(), blocked: v.blocked, up: v.up, timer: v.timerDeadline })),
  }));
  const disks = m.backends.map((b) => ('disk' in b ? hashBytes((b as unknown as { disk: { bytes: Uint8Array } }).disk.bytes) : 0));
  return JSON.stringify({ now: xen.now, mem: h >>> 0, doms, disks, frames: hashBytes(new Uint8Array(xen.frames.type.buffer)) });
}

function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < b.length; k++) h = Math.imul(h ^ b[k], 0x01000193);
  return h >>> 0;
}

const CASES: [string, string[], number][] = [
  ['hello', ['hello.xasm'], 2_000_000],
  ['events', ['events.xasm'], 30_000_000],
  ['pagetables', ['pagetables.xasm'], 20_000_000],
  ['traps', ['traps.xasm'], 5_000_000],
  ['pingpong', ['pingpong/ping.cfg', 'pingpong/pong.cfg'], 20_000_000],
  ['blkfront', ['blkfront/blkfront.cfg'], 20_000_000],
  ['netfront', ['netfront/ping.cfg', 'netfront/pong.cfg'], 20_000_000],
  ['smp', ['smp/smp.cfg'], 20_000_000],
];

describe('machine history', () => {
  for (const [name, programs, cycles] of CASES) {
    it(`${name}: restoring any snapshot and running on repeats the run`, () => {
      const m = bootSeedMachine(...programs);
      const history = new History(m.xen, m.backends);
      const steps = 12;
      const piece = Math.ceil(cycles / steps);
      const marks: string[] = [];
      for (let i = 0; i < steps; i++) {
        history.take();
        marks.push(fingerprint(m));
        m.xen.runAll(piece);
      }
      const end = fingerprint(m);
      const endNow = m.xen.now;
      // Back to snapshots in a scrambled order: each must be as it was, and running from it
      // must reach the states that followed it.
      for (const i of [7, 3, 9, 0, 5, 11, 1]) {
        if (i >= history.length) continue;
        history.restore(i);
        expect(fingerprint(m), `snapshot ${i}`).toBe(marks[i]);
        history.truncate(i);
        // Retaking the later snapshots on the way (as the debugger does) must not disturb anything.
        for (let k = i; k < steps - 1; k++) {
          m.xen.runAll(piece);
          history.take();
          expect(fingerprint(m), `after snapshot ${i}, at ${k + 1}`).toBe(marks[k + 1]);
        }
        m.xen.runAll(piece);
        expect(m.xen.now).toBe(endNow);
        expect(fingerprint(m)).toBe(end);
      }
    });
  }

  it('restores without dropping later snapshots, and any of them again', () => {
    const m = bootSeedMachine('pingpong/ping.cfg', 'pingpong/pong.cfg');
    const history = new History(m.xen, m.backends);
    const marks: string[] = [];
    for (let i = 0; i < 6; i++) {
      history.take();
      marks.push(fingerprint(m));
      m.xen.runAll(2_000_000);
    }
    for (const i of [5, 1, 4, 0, 2, 5, 3]) {
      history.restore(i);
      expect(fingerprint(m)).toBe(marks[i]);
      m.xen.runAll(1_000_000); // wander off: the next restore must undo this too
    }
    expect(history.length).toBe(6);
  });

  it('leaves the host\'s hooks alone: one installed after a snapshot survives restoring it', () => {
    const m = bootSeedMachine('hello.xasm');
    const history = new History(m.xen, m.backends);
    history.take();
    const seen: string[] = [];
    m.domains[0].onConsole = (text) => seen.push(text);
    m.xen.debugHook = () => false;
    history.restore(0);
    expect(m.xen.debugHook).not.toBeNull();
    m.xen.runAll(2_000_000);
    expect(seen.join('')).toContain('Hello');
  });

  it('keeps only the frames written between snapshots', () => {
    const m = bootSeedMachine('events.xasm');
    const history = new History(m.xen, m.backends);
    history.take();
    const base = history.bytes;
    for (let i = 0; i < 10; i++) {
      m.xen.runAll(1_000_000);
      history.take();
    }
    const perSnapshot = (history.bytes - base) / 10;
    // A guest that writes a few pages between snapshots costs a few pages (plus its object state), not its memory.
    expect(perSnapshot).toBeLessThan(256 * 1024);
    expect(base).toBeGreaterThanOrEqual(m.xen.mem.size);
  });
});
